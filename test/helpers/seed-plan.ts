import path from 'node:path';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { validatePlan } from '../../src/plan/validate';
import type { Plan } from '../../src/plan/schema';
import type { Probes } from '../../src/plan/probes-schema';

/** plans/phase2-3.json validated: the seed plan as a workflow gets it, defaults filled in. */
export function seedPlan(): Plan {
  const doc = JSON.parse(readFileSync(path.resolve(__dirname, '../../plans/phase2-3.json'), 'utf8')) as {
    plan: unknown;
  };
  return validated(doc.plan);
}

/** The camera API's probes as the seed plan declares them (a fresh copy each call). */
export function seedProbes(): Probes {
  return seedPlan().target.probes!;
}

/** test/fixtures/orders-service/orders-plan.yaml as written (a second target, unlike the camera API). */
export function ordersPlanInput(): Record<string, unknown> {
  return parseYaml(
    readFileSync(path.resolve(__dirname, '../fixtures/orders-service/orders-plan.yaml'), 'utf8'),
  ) as Record<string, unknown>;
}

/** The orders plan pointed at a running orders service: its URLs, its stores. */
export function ordersPlanAt(
  service: { url: string; dbPath: string; yamlPath: string },
  id = 'orders-api',
): Record<string, unknown> {
  const plan = ordersPlanInput();
  const target = plan.target as Record<string, unknown>;
  return {
    ...plan,
    target: {
      ...target,
      id,
      baseUrl: service.url,
      traffic: { type: 'http', url: `${service.url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' },
      metrics: { type: 'exposition', url: `${service.url}/metrics` },
      consistency: { type: 'sqlite-yaml', database: service.dbPath, yaml: service.yamlPath, key: 'order_id' },
    },
  };
}

/** A plan input validated, or a thrown list of its problems. */
export function validated(input: unknown): Plan {
  const v = validatePlan(input);
  if (!v.ok) throw new Error(`the plan does not validate: ${JSON.stringify(v.problems)}`);
  return v.plan;
}
