import { z } from 'zod';
import { parseDuration } from './duration';

/** Every check a phase may name. `functional`, the metric checks and `servedShare` run by default. */
export const CHECK_NAMES = [
  'functional',
  'errorRate',
  'successRate',
  'p95',
  'servedShare',
  'dataConsistency',
  'writeProbe',
  'command',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];
export const DEFAULT_CHECKS: CheckName[] = ['functional', 'errorRate', 'successRate', 'p95', 'servedShare'];

const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, {
  message: 'must be a duration like 10s, 30m or 1h',
});
const observe = z.string().refine((s) => s === 'continuous' || (parseDuration(s) ?? 0) > 0, {
  message: 'must be a duration like 30m or 1h, or "continuous"',
});
const rate = z.number().min(0, 'must be 0..1').max(1, 'must be 0..1');
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');

const httpTraffic = z.object({
  type: z.literal('http'),
  /** The backend's admin route, `GET|PUT /admin/rollout`. */
  url: z.url(),
  /** Name of the environment variable holding the admin bearer token; the worker reads it. */
  tokenEnv: envName.optional(),
  timeout: duration.default('10s'),
});

const envFileTraffic = z.object({
  type: z.literal('env-file'),
  path: z.string().min(1),
  restartCommand: z.string().min(1),
  healthUrl: z.url(),
  /** Which variable carries each group's percent. */
  variables: z.record(z.string(), envName).default({}),
  /** Variable used when a group has none of its own (the seed's single `ROLLOUT_PERCENT`). */
  percentVariable: envName.default('ROLLOUT_PERCENT'),
  killSwitchVariable: envName.default('USE_DOMAIN_SERVICE'),
  healthTimeout: duration.default('60s'),
});

const expositionMetrics = z.object({
  type: z.literal('exposition'),
  url: z.url(),
  timeout: duration.default('10s'),
});
const prometheusMetrics = z.object({
  type: z.literal('prometheus'),
  url: z.url(),
  /** Label matchers added to every query, e.g. `job="camera-api"`. */
  selector: z.string().default(''),
  timeout: duration.default('10s'),
});

const sqliteYamlConsistency = z.object({
  type: z.literal('sqlite-yaml'),
  database: z.string().min(1),
  yaml: z.string().min(1),
});

const endpoint = z
  .string()
  .regex(/^(GET|POST|PUT|PATCH|DELETE) \/\S*$/, 'must look like "GET /api/v1/path" (method, space, path)');

const thresholds = z.object({
  errorRate: z.object({ target: rate, rollback: rate }).default({ target: 0.01, rollback: 0.05 }),
  successRate: z.object({ target: rate, rollback: rate }).default({ target: 0.99, rollback: 0.95 }),
  p95Increase: z
    .object({
      rollback: z.number().min(0),
      /** Increases below this many milliseconds are noise, whatever the ratio. */
      minDeltaMs: z.number().min(0).default(20),
    })
    .default({ rollback: 0.5, minDeltaMs: 20 }),
  servedShare: z.object({ tolerance: rate }).default({ tolerance: 0.1 }),
  /** Fewest domain requests before a rate is judged at all. */
  minSamples: z.number().int().min(1).default(50),
  /** z-score of the intervals that tell pass from hold at a window's end (1.96 ≈ 95%). */
  confidence: z.number().positive().default(1.96),
  /**
   * z-score of the intervals behind a rollback. Stricter than `confidence` because the rollback
   * question is asked at every check of every window (thousands of looks over an 8h window): at
   * 4.5 a healthy canary fails a look less than once in 10,000 at any sample size (exact binomial
   * figures in test/workflows/evaluate.test.ts), while a 30% error rate still fails the first
   * look of 100 requests.
   */
  rollbackConfidence: z.number().positive().default(4.5),
});

const defaults = z.object({
  checkInterval: duration.default('10s'),
  /** How far back the "at any moment" rollback judgement looks. */
  lookback: duration.default('2m'),
  /** Legacy-only observation before a phase's first step; its P95 is the baseline at 100%. */
  baselineWindow: duration.default('1m'),
  thresholds: thresholds.default(thresholds.parse({})),
  /** Consecutive metrics-source errors that turn into a hold. */
  maxMetricErrors: z.number().int().min(1).default(6),
  /** How a rollback switches traffic back: the group's percent to 0, or the kill switch off. */
  rollbackWith: z.enum(['percent', 'kill-switch']).default('percent'),
});

const command = z.object({
  run: z.string().min(1),
  timeout: duration.default('2m'),
});

const step = z.object({
  percent: z.number().min(0, 'must be 0..100').max(100, 'must be 0..100'),
  observe,
});

const phase = z.object({
  name: z.string().min(1),
  group: z.string().regex(/^[a-z][a-z0-9-]*$/, 'must be a lower-case name like "read"'),
  endpoints: z.array(endpoint).min(1, 'must list at least one endpoint'),
  approval: z.enum(['none', 'before-start']).default('none'),
  checks: z.array(z.enum(CHECK_NAMES)).optional(),
  command: command.optional(),
  steps: z.array(step).min(1, 'must have at least one step'),
});

export const planSchema = z.object({
  name: z.string().min(1),
  target: z.object({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be letters, digits, ".", "_" or "-"'),
    baseUrl: z.url(),
    traffic: z.discriminatedUnion('type', [httpTraffic, envFileTraffic]),
    metrics: z.discriminatedUnion('type', [expositionMetrics, prometheusMetrics]),
    consistency: sqliteYamlConsistency.optional(),
  }),
  approvers: z.array(z.string().min(1)).optional(),
  notify: z.object({ webhookUrl: z.url() }).optional(),
  defaults: defaults.default(defaults.parse({})),
  phases: z.array(phase).min(1, 'must have at least one phase'),
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

/** The workflow's one argument (SPEC §3). */
export const rolloutInputSchema = z.object({
  plan: z.unknown(),
  timeScale: z.number().positive('must be a positive number').default(1),
});
