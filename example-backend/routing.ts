import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { GROUPS, IMPLS, type Group, type Impl } from './schemas';
import { ApiError, must } from './errors';
import { RoutingKeys } from './routing-keys';

export interface RolloutSettings {
  useDomainService: boolean;
  groups: Record<Group, { percent: number }>;
}

/** Whole percents only: the orchestrator's `RolloutPercent` search attribute is an Int. */
export const PERCENT_MESSAGE = 'must be a whole number 0..100';

const percent = z
  .number({ error: must(PERCENT_MESSAGE) })
  .int({ error: PERCENT_MESSAGE })
  .min(0, { error: PERCENT_MESSAGE })
  .max(100, { error: PERCENT_MESSAGE });

const groupPatch = z.strictObject({ percent }, { error: 'must be an object like { "percent": 25 }' });

/** Names every JavaScript object answers to; as a group they would reach the prototype, not a group. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Group names are checked on the raw object, before zod builds its own: a `__proto__` key would
 * otherwise be assigned as a prototype there and vanish, and the patch would apply nothing.
 */
const groupsPatch = z.preprocess(
  (raw, ctx) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
    const known: Record<string, unknown> = {};
    for (const name of Object.keys(raw)) {
      const value = (raw as Record<string, unknown>)[name];
      if ((GROUPS as readonly string[]).includes(name)) known[name] = value;
      else
        ctx.addIssue({
          code: 'custom',
          path: [name],
          input: value,
          message: `${RESERVED.has(name) ? 'reserved name, not a group' : 'unknown group'} (expected ${GROUPS.join(' or ')})`,
        });
    }
    return known;
  },
  z
    .strictObject(
      { read: groupPatch.optional(), write: groupPatch.optional() },
      { error: 'must be an object keyed by group' },
    )
    .refine((groups) => Object.keys(groups).length > 0, {
      error: `must name at least one group (${GROUPS.join(' or ')})`,
    }),
);

/** `PUT /admin/rollout` takes any part of the state; what it leaves out stays as it is. */
export const RolloutPatch = z
  .strictObject(
    {
      useDomainService: z.boolean({ error: must('must be true or false') }).optional(),
      groups: groupsPatch.optional(),
    },
    { error: 'must be a JSON object' },
  )
  // An empty patch would answer 200 and change nothing: a client that sent it meant something else.
  .refine((patch) => patch.useDomainService !== undefined || patch.groups !== undefined, {
    error: 'must change useDomainService or groups',
  });
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
 * Bucket in hundredths of a percent (0..9999), compared with `percent * 100`: for whole percents it
 * routes exactly like a 0..99 bucket, and keys keep the side they had before percents became whole.
 */
export function bucketOf(key: string | undefined): number {
  return key === undefined ? randomInt(10_000) : fnv1a(key) % 10_000;
}

/** A routing key is a user id, not a payload; longer ones are a client bug. */
export const MAX_ROUTING_KEY_LENGTH = 1024;

export interface RoutingDecision {
  impl: Impl;
  /** A probe chose the implementation itself; its request must not count towards the served share. */
  forced: boolean;
}

/** The live routing switches; every change goes through here so the gauges can follow. */
export class Rollout {
  private state: RolloutSettings;
  private readonly listeners: Array<(state: RolloutSettings) => void> = [];

  constructor(
    initial: RolloutSettings,
    /** Distinct keys routed per group and side, reset whenever that group's routing changes. */
    readonly keys: RoutingKeys = new RoutingKeys(),
  ) {
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
    for (const name of GROUPS) {
      const group = patch.groups?.[name];
      if (group) next.groups[name] = { percent: group.percent };
    }
    const killSwitchChanged = next.useDomainService !== this.state.useDomainService;
    for (const name of GROUPS)
      if (killSwitchChanged || next.groups[name].percent !== this.state.groups[name].percent)
        this.keys.reset(name);
    this.state = next;
    for (const listener of this.listeners) listener(this.get());
    return this.get();
  }

  decide(group: Group, headers: { force?: string; key?: string }): RoutingDecision {
    if (headers.key !== undefined && headers.key.length > MAX_ROUTING_KEY_LENGTH) {
      throw new ApiError(
        400,
        `X-Rollout-Key: must be at most ${MAX_ROUTING_KEY_LENGTH} characters (got ${headers.key.length})`,
        'X-Rollout-Key',
      );
    }
    if (headers.force !== undefined) {
      const force = headers.force.trim().toLowerCase();
      if (!(IMPLS as readonly string[]).includes(force)) {
        throw new ApiError(400, `X-Rollout-Force: must be ${IMPLS.join(' or ')}`, 'X-Rollout-Force');
      }
      return { impl: force as Impl, forced: true };
    }
    const { useDomainService, groups } = this.state;
    const toDomain = useDomainService && bucketOf(headers.key) < groups[group].percent * 100;
    const impl = toDomain ? 'domain' : 'legacy';
    this.keys.record(group, impl, headers.key);
    return { impl, forced: false };
  }
}
