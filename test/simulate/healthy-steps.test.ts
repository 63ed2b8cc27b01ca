/**
 * Thousands of healthy steps through the real verdict code (`window-judge.ts`), seeded: not one
 * may roll back. The seed plan's first read and write steps with their windows cut to 10 minutes
 * (the false-rollback budget is per step, whatever its length), at 50 and 5 requests/s, routed
 * per request and sticky by 2,000 users.
 */
import path from 'node:path';
import { loadPlan } from '../../src/plan/load';
import type { Plan } from '../../src/plan/schema';
import { runCell, summarize } from '../../src/simulate/experiment';
import { cellFor, healthy, planSteps, routingName } from '../../src/simulate/scenarios';
import type { Routing } from '../../src/simulate/traffic-model';

jest.setTimeout(90_000);

const RUNS = 375;
const WINDOW_MS = 600_000;

let plan: Plan;
beforeAll(async () => {
  const loaded = await loadPlan(path.join(__dirname, '../../plans/phase2-3.yaml'));
  if (!loaded.ok) throw new Error('the seed plan does not validate');
  plan = loaded.plan;
});

const routings: Routing[] = [{ kind: 'per-request' }, { kind: 'sticky', users: 2000 }];

describe.each([
  ['read', 10],
  ['write', 5],
])('the seed plan’s first %s step (%p%), 10-minute windows', (group, percent) => {
  it.each([50, 5].flatMap((rps) => routings.map((routing) => [rps, routingName(routing), routing] as const)))(
    `${RUNS} healthy steps at %p requests/s, %s: no rollback`,
    (rps, _name, routing) => {
      const step = planSteps(plan).find((s) => s.group === group && s.percent === percent)!;
      const cell = cellFor(
        plan,
        { ...step, windowMs: WINDOW_MS },
        healthy(0.005),
        { rps, routing },
        RUNS,
        'healthy-steps',
      );
      const s = summarize(runCell(cell));
      expect({ rollbacks: s.rollbacks, reasons: s.rollbackReasons }).toEqual({ rollbacks: 0, reasons: [] });
      expect(s.runs).toBe(RUNS);
    },
  );
});
