import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { GROUPS, IMPLS, type Group, type Impl } from './schemas';
import { ApiError, must } from './errors';

export interface RolloutSettings {
  useDomainService: boolean;
  groups: Record<Group, { percent: number }>;
}

const percent = z
  .number({ error: must('must be 0..100') })
  .min(0, { error: 'must be 0..100' })
  .max(100, { error: 'must be 0..100' });

/** `PUT /admin/rollout` takes any part of the state; what it leaves out stays as it is. */
export const RolloutPatch = z.strictObject(
  {
    useDomainService: z.boolean({ error: must('must be true or false') }).optional(),
    groups: z
      .record(
        z.string(),
        z.strictObject({ percent }, { error: 'must be an object like { "percent": 25 }' }),
        {
          error: 'must be an object keyed by group',
        },
      )
      .superRefine((groups, ctx) => {
        for (const name of Object.keys(groups)) {
          if (!(GROUPS as readonly string[]).includes(name)) {
            ctx.addIssue({
              code: 'custom',
              path: [name],
              message: `unknown group (expected ${GROUPS.join(' or ')})`,
            });
          }
        }
      })
      .optional(),
  },
  { error: 'must be a JSON object' },
);
export type RolloutPatch = z.infer<typeof RolloutPatch>;

/**
 * FNV-1a (32 bit): cheap, stable across processes and restarts, so one user key lands on the same
 * side for the whole rollout and only moves when the percent grows past its bucket.
 */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Bucket in hundredths of a percent (0..9999): for whole percents it behaves exactly like a 0..99
 * bucket, and a plan may still use a fractional step such as 2.5%.
 */
export function bucketOf(key: string | undefined): number {
  return key === undefined ? randomInt(10_000) : fnv1a(key) % 10_000;
}

export interface RoutingDecision {
  impl: Impl;
  /** A probe chose the implementation itself; its request must not count towards the served share. */
  forced: boolean;
}

/** The live routing switches; every change goes through here so the gauges can follow. */
export class Rollout {
  private state: RolloutSettings;
  private readonly listeners: Array<(state: RolloutSettings) => void> = [];

  constructor(initial: RolloutSettings) {
    this.state = structuredClone(initial);
  }

  get(): RolloutSettings {
    return structuredClone(this.state);
  }

  onChange(listener: (state: RolloutSettings) => void): void {
    this.listeners.push(listener);
    listener(this.get());
  }

  apply(patch: RolloutPatch): RolloutSettings {
    const next = structuredClone(this.state);
    if (patch.useDomainService !== undefined) next.useDomainService = patch.useDomainService;
    for (const [name, group] of Object.entries(patch.groups ?? {}))
      next.groups[name as Group] = { percent: group.percent };
    this.state = next;
    for (const listener of this.listeners) listener(this.get());
    return this.get();
  }

  decide(group: Group, headers: { force?: string; key?: string }): RoutingDecision {
    if (headers.force !== undefined) {
      const force = headers.force.trim().toLowerCase();
      if (!(IMPLS as readonly string[]).includes(force)) {
        throw new ApiError(400, `X-Rollout-Force: must be ${IMPLS.join(' or ')}`, 'X-Rollout-Force');
      }
      return { impl: force as Impl, forced: true };
    }
    const { useDomainService, groups } = this.state;
    const toDomain = useDomainService && bucketOf(headers.key) < groups[group].percent * 100;
    return { impl: toDomain ? 'domain' : 'legacy', forced: false };
  }
}
