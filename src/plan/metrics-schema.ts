import { z } from 'zod';
import { LIMITS } from './limits';
import { METRICS_PRESETS } from './metrics-conventions';

/**
 * `target.metrics`' names (metrics-conventions.ts): a preset, the plan's own names over it, how the
 * implementations are told apart, per-group matchers, and (prometheus) the plan's own PromQL. Every
 * field optional and without a default: a plan that names none validates to exactly what it did
 * before, and reads the same series.
 */

const metricName = z
  .string()
  .max(LIMITS.nameLength, `must be at most ${LIMITS.nameLength} characters`)
  .regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'must be a Prometheus metric name (letters, digits, "_", ":")');
const labelName = z
  .string()
  .max(LIMITS.nameLength, `must be at most ${LIMITS.nameLength} characters`)
  .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name (letters, digits, "_")')
  .refine((n) => n !== 'le', 'must not be "le" (the bucket bound)');
const labelValue = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.nameLength, `must be at most ${LIMITS.nameLength} characters`);

/** Which label value is domain and which legacy; `label` defaults to the preset's (`impl`, `server`, ...). */
const implMapping = z.strictObject({ label: labelName.optional(), domain: labelValue, legacy: labelValue });

const names = z.strictObject({
  /** The request counter, or the histogram's `_count`. */
  requests: metricName.optional(),
  /** The latency histogram's name (without `_bucket`); `null`: there is none. */
  histogram: metricName.nullable().optional(),
  histogramUnit: z.enum(['seconds', 'milliseconds']).optional(),
  /** `null`: the source has no such label. */
  route: labelName.nullable().optional(),
  method: labelName.nullable().optional(),
  status: labelName.optional(),
  statusKind: z.enum(['code', 'class']).optional(),
});

/** The placeholders a PromQL template may use, filled per implementation and group at each check. */
export const QUERY_PLACEHOLDERS = ['impl', 'impl_selector', 'range', 'routes', 'methods', 'group'] as const;

/**
 * One PromQL template. Placeholders are `{name}` with a bare name inside; PromQL's own braces always
 * hold a matcher (`{job="x"}`), so the two cannot be confused.
 */
const template = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`)
  .superRefine((q, ctx) => {
    const known = QUERY_PLACEHOLDERS.map((p) => `{${p}}`);
    const used = [...q.matchAll(/\{[A-Za-z_][A-Za-z0-9_]*\}/g)].map((m) => m[0]);
    for (const u of new Set(used))
      if (!known.includes(u))
        ctx.addIssue({ code: 'custom', message: `unknown placeholder ${u} (known: ${known.join(', ')})` });
    if (!used.includes('{impl}') && !used.includes('{impl_selector}'))
      ctx.addIssue({
        code: 'custom',
        message: 'must use {impl} or {impl_selector}: without it domain and legacy read the same figure',
      });
    if (!used.includes('{range}'))
      ctx.addIssue({ code: 'custom', message: "must use {range} (e.g. increase(...[{range}])): a figure is the increase over the check's interval" });
  });

const queries = z.strictObject({
  /** Requests of one implementation over the range (the values of the answer are added up). */
  requests: template,
  /** Its 5xx answers. */
  errors: template,
  /** Its 2xx answers; without it, requests − errors (a warning says so). */
  successes: template.optional(),
  /** Its latency buckets: a vector with an `le` label (seconds), e.g. `sum by (le) (increase(..._bucket{...}[{range}]))`. */
  buckets: template.optional(),
});

const groupMapping = z.strictObject({
  impl: implMapping.optional(),
  /** Label values the group's series must carry (`proxy: be_read`): how route-less sources tell groups apart. */
  match: z.record(labelName, labelValue).optional(),
});

/** Fields both metrics sources take. */
export const metricsMappingFields = {
  preset: z.enum(METRICS_PRESETS).optional(),
  names: names.optional(),
  impl: implMapping.optional(),
  groups: z
    .record(
      z
        .string()
        .max(LIMITS.groupLength, `must be at most ${LIMITS.groupLength} characters`)
        .regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case name like "read"'),
      groupMapping,
    )
    .optional(),
};

/** `prometheus` only: the plan's own PromQL instead of a preset. */
export const metricsQueriesField = { queries: queries.optional() };
