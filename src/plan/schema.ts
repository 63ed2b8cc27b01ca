import { z } from 'zod';
import { CHECK_NAMES, type CheckName } from './checks';
import { formatLimit, parseDuration } from './duration';
import { LIMITS } from './limits';
import { planErrorMap } from './messages';
import { endpoint, personName, text } from './fields';
import { probesSchema } from './probes-schema';
import { metricsMappingFields, metricsQueriesField } from './metrics-schema';

export { CHECK_NAMES, DEFAULT_CHECKS, type CheckName } from './checks';

interface Range {
  readonly min: number;
  readonly max: number;
}

/**
 * A duration within `range`. 400 digits would parse to Infinity and `0.001ms` to a check loop
 * that never sleeps: both are refused here, not discovered by a stuck workflow.
 */
function durationWithin(range: Range, example = '10s, 30m or 1h', extra?: string) {
  return z.string().superRefine((text, ctx) => {
    if (extra !== undefined && text === extra) return;
    const like = `must be a duration like ${example}${extra ? `, or "${extra}"` : ''}`;
    if (text.length > LIMITS.durationLength) {
      ctx.addIssue({ code: 'custom', message: `${like} (at most ${LIMITS.durationLength} characters)` });
      return;
    }
    const ms = parseDuration(text);
    if (ms === undefined) ctx.addIssue({ code: 'custom', message: like });
    else if (ms < range.min || ms > range.max)
      ctx.addIssue({
        code: 'custom',
        message: `must be between ${formatLimit(range.min)} and ${formatLimit(range.max)} (got ${text})`,
      });
  });
}

function numberWithin(range: Range, whole = false) {
  const message = `must be ${whole ? 'a whole number ' : ''}${range.min}..${range.max}`;
  const n = z.number().min(range.min, message).max(range.max, message);
  return whole ? n.int(message) : n;
}

const timeout = durationWithin(LIMITS.timeoutMs);
const url = z
  .url({
    protocol: /^https?$/,
    error: (iss) =>
      iss.code === 'invalid_format' ? 'must be an http(s) URL like http://host:8000/path' : undefined,
  })
  .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`);
const rate = numberWithin({ min: 0, max: 1 });
const envName = z
  .string()
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const groupName = z
  .string()
  .max(LIMITS.groupLength, `must be at most ${LIMITS.groupLength} characters`)
  .regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case name like "read"');

const httpTraffic = z.strictObject({
  type: z.literal('http'),
  /** The backend's admin route, `GET|PUT /admin/rollout`. */
  url,
  /** Name of the environment variable holding the admin bearer token; the worker reads it. */
  tokenEnv: envName.optional(),
  timeout: timeout.default('10s'),
});

const envFileTraffic = z.strictObject({
  type: z.literal('env-file'),
  path: text(LIMITS.stringLength),
  restartCommand: text(LIMITS.commandLength),
  healthUrl: url,
  /** Which variable carries each group's percent. */
  variables: z.record(groupName, envName).default({}),
  /** Variable used when a group has none of its own (the seed's single `ROLLOUT_PERCENT`). */
  percentVariable: envName.default('ROLLOUT_PERCENT'),
  killSwitchVariable: envName.default('USE_DOMAIN_SERVICE'),
  healthTimeout: timeout.default('60s'),
  /** Reads the percents in force (as the `command` provider's `read`) instead of the file. */
  readCommand: argvWith(['group']).optional(),
});

/** A program and its arguments, run without a shell; plan values only ever fill whole placeholders. */
function argvWith(placeholders: readonly string[]) {
  const known = placeholders.map((p) => `{${p}}`);
  return z
    .array(text(LIMITS.commandLength))
    .min(1, 'must name the program (a list: [program, arg, ...])')
    .max(LIMITS.commandArgs, `must have at most ${LIMITS.commandArgs} words`)
    .superRefine((words, ctx) => {
      words.forEach((w, i) => {
        for (const m of w.matchAll(/\{[^{}]*\}/g))
          if (!known.includes(m[0]))
            ctx.addIssue({
              code: 'custom',
              path: [i],
              message: `unknown placeholder ${m[0]} (${known.length ? `known: ${known.join(', ')}` : 'none is filled in here'})`,
            });
      });
      if (words[0]?.includes('{'))
        ctx.addIssue({ code: 'custom', path: [0], message: 'the program itself cannot be a placeholder' });
    });
}

/** Refuses an empty group mapping (a router with nothing to move). */
const routerGroups = <T extends z.ZodType>(mapping: T) =>
  z
    .record(groupName, mapping)
    .refine((g) => Object.keys(g).length > 0, 'must map at least one group (e.g. read: {...})');

/** HAProxy names (proxies, servers): also what keeps a `;` or a space out of a Runtime API command. */
const haproxyName = z
  .string()
  .min(1, 'must not be empty')
  .max(LIMITS.groupLength * 2, `must be at most ${LIMITS.groupLength * 2} characters`)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'must be an HAProxy name (letters, digits, "_", ".", ":", "-")');

const haproxyTraffic = z.strictObject({
  type: z.literal('haproxy'),
  /** `unix:/run/haproxy/admin.sock` or `tcp:127.0.0.1:9999` (a `stats socket ... level admin`). */
  runtimeApi: z
    .string()
    .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`)
    .regex(
      /^(unix:\/[^\0]+|tcp:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5})$/,
      'must be unix:/path/to/admin.sock or tcp:host:port',
    ),
  /** Per group: the backend and its legacy and domain servers (weights: domain = percent). */
  groups: routerGroups(
    z
      .strictObject({ backend: haproxyName, legacy: haproxyName, domain: haproxyName })
      .refine((g) => g.legacy !== g.domain, { message: 'legacy and domain must be different servers', path: ['domain'] }),
  ),
  timeout: timeout.default('5s'),
});

/** An upstream server address nginx accepts and nothing more: no spaces, `;`, braces or quotes. */
const upstreamAddress = z
  .string()
  .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`)
  .regex(
    /^(unix:\/[A-Za-z0-9_./-]+|(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5})$/,
    'must be host:port or unix:/path (an nginx upstream server address)',
  );
const hostPort = z
  .string()
  .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`)
  .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:8099');

const nginxTraffic = z.strictObject({
  type: z.literal('nginx'),
  /** The file the provider owns and rewrites, included inside nginx's `http {}`. */
  file: text(LIMITS.stringLength),
  /** Where the owned file's status server listens; the worker reads the state nginx serves there. */
  statusListen: hostPort,
  groups: routerGroups(
    z
      .strictObject({
        upstream: z
          .string()
          .max(LIMITS.groupLength * 2, `must be at most ${LIMITS.groupLength * 2} characters`)
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an upstream name (letters, digits, "_")'),
        legacy: upstreamAddress,
        domain: upstreamAddress,
      })
      .refine((g) => g.legacy !== g.domain, { message: 'legacy and domain must be different addresses', path: ['domain'] }),
  ),
  testCommand: argvWith([]).default(['nginx', '-t']),
  reloadCommand: argvWith([]).default(['nginx', '-s', 'reload']),
  /** Bounds each command, and the wait for nginx to serve the new file after a reload. */
  timeout: timeout.default('30s'),
});

const commandTraffic = z.strictObject({
  type: z.literal('command'),
  /** Sets one group's percent: `{group}` and `{percent}` fill whole arguments' placeholders. */
  set: argvWith(['group', 'percent']).refine((w) => w.some((a) => a.includes('{percent}')), {
    message: 'must pass {percent} in one of its arguments',
  }),
  /** Prints the percent in force: a number (run per group with `{group}`) or `group=percent` lines. */
  read: argvWith(['group']),
  timeout: timeout.default('30s'),
});

const expositionMetrics = z.strictObject({
  type: z.literal('exposition'),
  url,
  timeout: timeout.default('10s'),
  /** Metric and label names (metrics-schema.ts); none: the example backend's. */
  ...metricsMappingFields,
});
const prometheusMetrics = z.strictObject({
  type: z.literal('prometheus'),
  url,
  /** Label matchers added to every query, e.g. `job="orders-api"`. */
  selector: z
    .string()
    .max(LIMITS.stringLength, `must be at most ${LIMITS.stringLength} characters`)
    .default(''),
  timeout: timeout.default('10s'),
  ...metricsMappingFields,
  ...metricsQueriesField,
});

const sqlName = z
  .string()
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a table or column name (letters, digits, _)');

const sqliteYamlConsistency = z.strictObject({
  type: z.literal('sqlite-yaml'),
  database: text(LIMITS.stringLength),
  yaml: text(LIMITS.stringLength),
  /** The table in the database and the list in the YAML file; the YAML file's name when absent. */
  collection: sqlName.optional(),
  /** The column (and YAML field) that identifies a record; `id` when absent. */
  key: sqlName.optional(),
});

/** Bands: `target` is where a pass lies, `rollback` where evidence reverts (ordered in validate.ts). */
const band = z.strictObject({ target: rate, rollback: rate });

const thresholds = z.strictObject({
  errorRate: band.default({ target: 0.01, rollback: 0.05 }),
  successRate: band.default({ target: 0.99, rollback: 0.95 }),
  p95Increase: z
    .strictObject({
      rollback: numberWithin(LIMITS.p95Increase),
      /** Increases below this many milliseconds are noise, whatever the ratio. */
      minDeltaMs: numberWithin(LIMITS.minDeltaMs).default(20),
    })
    .default({ rollback: 0.5, minDeltaMs: 20 }),
  /**
   * The share the domain serves, judged against the configured percent ± `tolerance` (relative).
   * Out of the band it holds (the seed lists it as a thing to verify, not a rollback condition);
   * with `rollbackFactor` a gross mismatch rolls back: a share clearly beyond `rollbackFactor`
   * times the configured one, or below it divided by that.
   */
  servedShare: z
    .strictObject({
      tolerance: rate,
      rollbackFactor: numberWithin(LIMITS.shareRollbackFactor).optional(),
      /**
       * How the router splits traffic: `per-request` (the default) or `sticky` (by user or key).
       * Sticky routing without the `rollout_routing_keys` gauge judges only a share several times
       * off, since unequal users move the share of requests far beyond the band.
       */
      routing: z.enum(['per-request', 'sticky']).optional(),
    })
    .default({ tolerance: 0.1 }),
  /** Fewest domain requests before a rate is judged at all. */
  minSamples: numberWithin(LIMITS.minSamples, true).default(50),
  /** z-score of the intervals that tell pass from hold at a window's end (1.96 ≈ 95%). */
  confidence: numberWithin(LIMITS.zScore).default(1.96),
  /** Retired in 0.2.0 (read by the v1/v2 rules only): accepted with a warning, so older plans load. */
  rollbackConfidence: numberWithin(LIMITS.zScore).optional(),
  /**
   * The chance that a healthy step is rolled back, over all the looks of its whole window (the
   * sequential test spends it across the window; SPEC §2).
   */
  falseRollback: z
    .number()
    .gt(LIMITS.falseRollback.minExclusive, `must be more than 0 and at most ${LIMITS.falseRollback.max}`)
    .max(LIMITS.falseRollback.max, `must be more than 0 and at most ${LIMITS.falseRollback.max}`)
    .default(0.001),
});

const defaults = z.strictObject({
  checkInterval: durationWithin(LIMITS.checkIntervalMs).default('10s'),
  /** How far back the "at any moment" rollback judgement looks. */
  lookback: durationWithin(LIMITS.lookbackMs).default('2m'),
  /**
   * The longest error burst the service is known to have (a retry storm, a downstream hiccup, a
   * cache refill) that its earlier windows may not have shown: a rate rollback then needs an excess
   * that has lasted longer than this. It delays the rollback of a real fault by about as long.
   * Absent: a rollback as soon as the evidence is clear.
   */
  burstLength: durationWithin(LIMITS.burstLengthMs, '30s, 1m or 2m').optional(),
  /** Legacy-only observation before a phase's first step; its P95 is the baseline at 100%. */
  baselineWindow: durationWithin(LIMITS.baselineWindowMs).default('1m'),
  thresholds: thresholds.default(thresholds.parse({})),
  /** Consecutive metrics-source errors that turn into a hold. */
  maxMetricErrors: numberWithin(LIMITS.maxMetricErrors, true).default(6),
  /** Extra windows for a step whose only shortfall is too few samples, before it holds. */
  maxExtensions: numberWithin(LIMITS.maxExtensions, true).default(3),
  /** How a rollback switches traffic back: the group's percent to 0, or the kill switch off. */
  rollbackWith: z.enum(['percent', 'kill-switch']).default('percent'),
});

const command = z.strictObject({
  run: text(LIMITS.commandLength),
  timeout: timeout.default('2m'),
});

const step = z.strictObject({
  /** Whole numbers: the `RolloutPercent` search attribute is an Int (2.5 fails the workflow task). */
  percent: z
    .number()
    .min(0, 'must be 0..100')
    .max(100, 'must be 0..100')
    .int('must be a whole number 0..100 (percents are integers)'),
  /** At least `checkInterval` (validate.ts), at most 30 days, or `continuous` on the last step. */
  observe: durationWithin(
    { min: LIMITS.checkIntervalMs.min, max: LIMITS.observeMaxMs },
    '30m or 1h',
    'continuous',
  ),
});

const checkList = z.array(z.enum(CHECK_NAMES)).max(CHECK_NAMES.length, `must list each check at most once`);
const checkMap = z.strictObject(
  Object.fromEntries(CHECK_NAMES.map((n) => [n, z.enum(['on', 'off']).optional()])) as Record<
    CheckName,
    z.ZodOptional<z.ZodEnum<{ on: 'on'; off: 'off' }>>
  >,
);
/**
 * A phase's checks, as a list or as a map of switches: the shape decides which is checked, so a
 * mistake is reported against the one meant (a misspelt name in a list, a switch that is not on/off).
 */
const checkSwitches = z.unknown().transform((v, ctx): z.output<typeof checkList> | z.output<typeof checkMap> => {
  const r = (Array.isArray(v) ? checkList : checkMap).safeParse(v, { error: planErrorMap });
  if (r.success) return r.data;
  for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const phase = z.strictObject({
  name: personName,
  group: groupName,
  endpoints: z
    .array(endpoint)
    .min(1, 'must list at least one endpoint')
    .max(LIMITS.endpoints, `must list at most ${LIMITS.endpoints} endpoints`),
  approval: z.enum(['none', 'before-start']).default('none'),
  /** A list adds checks to the defaults; a map turns each on or off (`{p95: off}`). */
  checks: checkSwitches.optional(),
  command: command.optional(),
  steps: z
    .array(step)
    .min(1, 'must have at least one step')
    .max(LIMITS.steps, `must have at most ${LIMITS.steps} steps`),
});

export const planSchema = z.strictObject({
  name: personName,
  target: z.strictObject({
    id: z
      .string()
      .min(1, 'must not be empty')
      .max(LIMITS.targetIdLength, `must be at most ${LIMITS.targetIdLength} characters`)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
    baseUrl: url,
    traffic: z.discriminatedUnion('type', [httpTraffic, envFileTraffic, haproxyTraffic, nginxTraffic, commandTraffic]),
    metrics: z.discriminatedUnion('type', [expositionMetrics, prometheusMetrics]),
    consistency: sqliteYamlConsistency.optional(),
    /** How the functional check and the write probe exercise the target (probes-schema.ts). */
    probes: probesSchema.optional(),
  }),
  /** Who may signal; when present, nobody else can (so an empty list would lock everyone out). */
  approvers: z
    .array(personName)
    .min(1, 'must name at least one approver (leave approvers out to let anyone sign)')
    .max(LIMITS.approvers, `must name at most ${LIMITS.approvers} approvers`)
    .optional(),
  notify: z.strictObject({ webhookUrl: url }).optional(),
  defaults: defaults.default(defaults.parse({})),
  phases: z
    .array(phase)
    .min(1, 'must have at least one phase')
    .max(LIMITS.phases, `must have at most ${LIMITS.phases} phases`),
});

/** A plan as written (defaults not yet applied). */
export type PlanInput = z.input<typeof planSchema>;
/** A validated plan with every default filled in. */
export type Plan = z.output<typeof planSchema>;
export type Phase = Plan['phases'][number];
export type Step = Phase['steps'][number];
export type Thresholds = Plan['defaults']['thresholds'];
export type TrafficConfig = Plan['target']['traffic'];
export type MetricsConfig = Plan['target']['metrics'];
export type ConsistencyConfig = NonNullable<Plan['target']['consistency']>;

const timeScaleMessage = `must be a number from ${LIMITS.timeScale.min} to ${LIMITS.timeScale.max}`;

/** The workflow's one argument (SPEC §3); `resume` is what a continued-as-new run carries. */
export const rolloutInputSchema = z.strictObject(
  {
    plan: z.unknown().refine((v) => v !== undefined, 'is required'),
    timeScale: z
      .number({ error: (iss) => planErrorMap(iss) })
      .min(LIMITS.timeScale.min, timeScaleMessage)
      .max(LIMITS.timeScale.max, timeScaleMessage)
      .default(1),
    current: z
      .strictObject({
        mode: z.enum(['resume-from-current', 'from-zero']),
        shares: z.record(z.string(), z.number().min(0).max(100)),
      })
      .optional(),
    resume: z.unknown().optional(),
  },
  { error: (iss) => planErrorMap(iss) },
);
