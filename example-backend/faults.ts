import { z } from 'zod';
import { must } from './errors';
import type { Impl } from './schemas';

/**
 * Fault injection for demos and tests: a broken domain service must look broken to the orchestrator
 * through the same signals a real one would give (500s, slow answers, stores drifting apart).
 */

export interface ImplFaults {
  errorRate: number;
  latencyMs: number;
  yamlDesync: boolean;
}
export type FaultState = Record<Impl, ImplFaults>;

const implFaults = z
  .strictObject(
    {
      errorRate: z
        .number({ error: must('must be a number 0..1') })
        .min(0, { error: 'must be a number 0..1' })
        .max(1, { error: 'must be a number 0..1' })
        .optional(),
      latencyMs: z
        .number({ error: must('must be a number >= 0') })
        .min(0, { error: 'must be a number >= 0' })
        .max(600_000, { error: 'must be at most 600000' })
        .optional(),
      yamlDesync: z.boolean({ error: must('must be true or false') }).optional(),
    },
    { error: 'must be an object' },
  )
  // An empty change answers 200 and changes nothing: the client meant something else.
  .refine((f) => Object.keys(f).length > 0, {
    error: 'must set at least one of errorRate, latencyMs, yamlDesync',
  });

/** Fields left out keep their current value, like `PUT /admin/rollout`; `DELETE` clears everything. */
export const FaultPatch = z
  .strictObject(
    { domain: implFaults.optional(), legacy: implFaults.optional() },
    { error: 'must be a JSON object' },
  )
  .refine((patch) => patch.domain !== undefined || patch.legacy !== undefined, {
    error: 'must set domain or legacy',
  });
export type FaultPatch = z.infer<typeof FaultPatch>;

const none = (): ImplFaults => ({ errorRate: 0, latencyMs: 0, yamlDesync: false });

export class Faults {
  private state: FaultState = { legacy: none(), domain: none() };

  get(): FaultState {
    return structuredClone(this.state);
  }

  for(impl: Impl): ImplFaults {
    return { ...this.state[impl] };
  }

  apply(patch: FaultPatch): FaultState {
    for (const impl of ['legacy', 'domain'] as const) {
      const change = patch[impl];
      if (!change) continue;
      this.state[impl] = {
        errorRate: change.errorRate ?? this.state[impl].errorRate,
        latencyMs: change.latencyMs ?? this.state[impl].latencyMs,
        yamlDesync: change.yamlDesync ?? this.state[impl].yamlDesync,
      };
    }
    return this.get();
  }

  clear(): FaultState {
    this.state = { legacy: none(), domain: none() };
    return this.get();
  }
}
