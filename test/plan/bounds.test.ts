import { LIMITS } from '../../src/plan/limits';
import { rolloutInputSchema } from '../../src/plan/schema';
import { validatePlan } from '../../src/plan/validate';
import { seedPlan } from '../helpers/workflow-harness';

/** Bounds, each with its message (issue 8, item 2), and the new threshold fields (issue 7). */
type Plan = ReturnType<typeof seedPlan>;
type Loose = Record<string, unknown>;
const t = (p: Plan) => p.defaults.thresholds as Loose;
const step = (p: Plan, i = 0, j = 0) => p.phases[i].steps[j] as Loose;

function problemsOf(plan: unknown): string[] {
  const v = validatePlan(plan);
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
}

const rejected: Array<[string, (p: Plan) => void, string]> = [
  [
    'checkInterval below 1s',
    (p) => (p.defaults.checkInterval = '999ms'),
    'defaults.checkInterval: must be between 1s and 10m (got 999ms)',
  ],
  [
    'checkInterval of 0.001ms',
    (p) => (p.defaults.checkInterval = '0.001ms'),
    'defaults.checkInterval: must be between 1s and 10m (got 0.001ms)',
  ],
  [
    'checkInterval above 10m',
    (p) => (p.defaults.checkInterval = '10m1s'),
    'defaults.checkInterval: must be between 1s and 10m (got 10m1s)',
  ],
  [
    'checkInterval of 400 digits (Infinity)',
    (p) => (p.defaults.checkInterval = `${'9'.repeat(400)}s`),
    'defaults.checkInterval: must be a duration like 10s, 30m or 1h (at most 32 characters)',
  ],
  [
    'observe of 400 digits',
    (p) => (step(p).observe = `${'1'.repeat(400)}m`),
    'phases[0].steps[0].observe: must be a duration like 30m or 1h, or "continuous" (at most 32 characters)',
  ],
  [
    'observe of 1000000d',
    (p) => (step(p).observe = '1000000d'),
    'phases[0].steps[0].observe: must be between 1s and 30d (got 1000000d)',
  ],
  [
    'observe past 30 days',
    (p) => (step(p).observe = '30d1s'),
    'phases[0].steps[0].observe: must be between 1s and 30d (got 30d1s)',
  ],
  [
    'observe shorter than checkInterval',
    (p) => (step(p).observe = '9s'),
    'phases[0].steps[0].observe: must be at least defaults.checkInterval (10s): a window needs a check',
  ],
  [
    'observe shorter than a longer checkInterval',
    (p) => ((p.defaults.checkInterval = '5m'), (step(p, 1, 0).observe = '4m')),
    'phases[1].steps[0].observe: must be at least defaults.checkInterval (5m): a window needs a check',
  ],
  [
    'lookback past 1 day',
    (p) => (p.defaults.lookback = '25h'),
    'defaults.lookback: must be between 1s and 1d (got 25h)',
  ],
  [
    'a lookback of more checks than the judge keeps (1 day of 1-second checks)',
    (p) => ((p.defaults.checkInterval = '1s'), (p.defaults.lookback = '1d')),
    'defaults.lookback: must span at most 360 checks of defaults.checkInterval (1s; got 86400): the judge keeps each of them',
  ],
  [
    'lookback of 0s',
    (p) => (p.defaults.lookback = '0s'),
    'defaults.lookback: must be between 1s and 1d (got 0s)',
  ],
  [
    'baselineWindow past 1 day',
    (p) => (p.defaults.baselineWindow = '2d'),
    'defaults.baselineWindow: must be between 1s and 1d (got 2d)',
  ],
  [
    'a timeout of 0.5ms',
    (p) => ((p.target.traffic as Loose).timeout = '0.5ms'),
    'target.traffic.timeout: must be between 100ms and 1h (got 0.5ms)',
  ],
  [
    'a fractional percent',
    (p) => (step(p).percent = 2.5),
    'phases[0].steps[0].percent: must be a whole number 0..100 (percents are integers)',
  ],
  [
    'a percent of Infinity',
    (p) => (step(p).percent = Infinity),
    'phases[0].steps[0].percent: must be a finite number (got Infinity)',
  ],
  [
    'a percent of NaN',
    (p) => (step(p).percent = NaN),
    'phases[0].steps[0].percent: must be a finite number (got NaN)',
  ],
  [
    'a percent as text',
    (p) => (step(p).percent = '10'),
    'phases[0].steps[0].percent: must be a number (got the text "10")',
  ],
  [
    'inverted error-rate bands',
    (p) => (t(p).errorRate = { target: 0.05, rollback: 0.01 }),
    'defaults.thresholds.errorRate.target: must be at most errorRate.rollback (0.01)',
  ],
  [
    'inverted success-rate bands',
    (p) => (t(p).successRate = { target: 0.9, rollback: 0.95 }),
    'defaults.thresholds.successRate.target: must be at least successRate.rollback (0.95)',
  ],
  [
    'a rate above 1',
    (p) => (t(p).errorRate = { target: 0.01, rollback: 1.5 }),
    'defaults.thresholds.errorRate.rollback: must be 0..1',
  ],
  [
    'approvers: []',
    (p) => (p.approvers = []),
    'approvers: must name at least one approver (leave approvers out to let anyone sign)',
  ],
  [
    'a duplicate approver',
    (p) => (p.approvers = ['alice', 'bob', 'alice']),
    'approvers[2]: duplicate approver "alice" (already at approvers[0])',
  ],
  [
    'a blank approver',
    (p) => (p.approvers = ['alice', '  ']),
    'approvers[1]: must not be blank, start or end with spaces, or hold control characters',
  ],
  [
    'a padded approver',
    (p) => (p.approvers = ['alice ']),
    'approvers[0]: must not be blank, start or end with spaces, or hold control characters',
  ],
  [
    'duplicate phase names',
    (p) => (p.phases[1].name = p.phases[0].name),
    'phases[1].name: duplicate phase name "phase2-read" (already at phases[0].name)',
  ],
  [
    'a 201-character target.id',
    (p) => (p.target.id = 'a'.repeat(201)),
    'target.id: must be at most 200 characters',
  ],
  [
    'a target.id with a slash',
    (p) => (p.target.id = 'camera/api'),
    'target.id: must be letters, digits, ".", "_" or "-"',
  ],
  [
    'a 10 MB target.id',
    (p) => (p.target.id = 'a'.repeat(10_000_000)),
    '(plan): is too large or nested too deeply for a workflow input',
  ],
  ['a 201-character name', (p) => (p.name = 'n'.repeat(201)), 'name: must be at most 200 characters'],
  [
    'a long phase name',
    (p) => (p.phases[0].name = 'n'.repeat(201)),
    'phases[0].name: must be at most 200 characters',
  ],
  [
    'a long URL',
    (p) => (p.target.baseUrl = `http://h/${'a'.repeat(2048)}`),
    'target.baseUrl: must be at most 2048 characters',
  ],
  [
    'a long endpoint',
    (p) => (p.phases[0].endpoints[0] = `GET /${'a'.repeat(2048)}`),
    'phases[0].endpoints[0]: must be at most 2048 characters',
  ],
  [
    'a long command',
    (p) => ((p.phases[1] as Loose).command = { run: 'x'.repeat(4097) }),
    'phases[1].command.run: must be at most 4096 characters',
  ],
  [
    'a non-http URL',
    (p) => (p.target.baseUrl = 'file:///etc/passwd'),
    'target.baseUrl: must be an http(s) URL like http://host:8000/path',
  ],
  [
    'falseRollback of 0',
    (p) => (t(p).falseRollback = 0),
    'defaults.thresholds.falseRollback: must be more than 0 and at most 0.05',
  ],
  [
    'falseRollback above 0.05',
    (p) => (t(p).falseRollback = 0.06),
    'defaults.thresholds.falseRollback: must be more than 0 and at most 0.05',
  ],
  [
    'maxExtensions above 20',
    (p) => ((p.defaults as Loose).maxExtensions = 21),
    'defaults.maxExtensions: must be a whole number 0..20',
  ],
  [
    'fractional maxExtensions',
    (p) => ((p.defaults as Loose).maxExtensions = 1.5),
    'defaults.maxExtensions: must be a whole number 0..20',
  ],
  [
    'maxMetricErrors of 0',
    (p) => ((p.defaults as Loose).maxMetricErrors = 0),
    'defaults.maxMetricErrors: must be a whole number 1..1000',
  ],
  [
    'a check listed twice',
    (p) => ((p.phases[1] as Loose).checks = ['writeProbe', 'writeProbe']),
    'phases[1].checks[1]: duplicate check "writeProbe" (already at phases[1].checks[0])',
  ],
  [
    'a mistyped check name',
    (p) => ((p.phases[1] as Loose).checks = ['dataconsistency']),
    'did you mean "dataConsistency"?',
  ],
  [
    'a mistyped approval value',
    (p) => ((p.phases[1] as Loose).approval = 'before_start'),
    'phases[1].approval: must be one of "none", "before-start"; did you mean "before-start"?',
  ],
  ['a missing field', (p) => delete (p as Loose).name, 'name: is required'],
  [
    'a missing traffic type',
    (p) => delete (p.target.traffic as Loose).type,
    'target.traffic.type: is required (one of "http", "env-file", "haproxy", "nginx", "command")',
  ],
  [
    'too many phases',
    (p) =>
      (p.phases = Array.from({ length: 21 }, (_, i) => ({ ...p.phases[0], name: `p${i}`, group: `g${i}` }))),
    'phases: must have at most 20 phases',
  ],
];

test.each(rejected)('refuses %s', (_name, mutate, expected) => {
  const plan = seedPlan();
  mutate(plan);
  expect(problemsOf(plan).join('\n')).toContain(expected);
});

const accepted: Array<[string, (p: Plan) => void]> = [
  [
    'checkInterval of 1s with observe of 1s',
    (p) => ((p.defaults.checkInterval = '1s'), (step(p).observe = '1s')),
  ],
  ['checkInterval of 10m', (p) => ((p.defaults.checkInterval = '10m'), (step(p).observe = '10m'))],
  ['observe of 30d', (p) => (step(p).observe = '30d')],
  ['a first step at 0%', (p) => (step(p).percent = 0)],
  ['equal bands (no hold band)', (p) => (t(p).errorRate = { target: 0.02, rollback: 0.02 })],
  ['falseRollback of 0.05', (p) => (t(p).falseRollback = 0.05)],
  ['maxExtensions of 0 and of 20', (p) => ((p.defaults as Loose).maxExtensions = 0)],
  ['maxExtensions of 20', (p) => ((p.defaults as Loose).maxExtensions = 20)],
  ['a 200-character target.id', (p) => (p.target.id = 'a'.repeat(200))],
  ['approvers listed once each', (p) => (p.approvers = ['alice', 'Bob Smith'])],
];

test.each(accepted)('accepts %s', (_name, mutate) => {
  const plan = seedPlan();
  mutate(plan);
  expect(problemsOf(plan)).toEqual([]);
});

test('the seed plan gets the two new defaults and is otherwise unchanged', () => {
  const v = validatePlan(seedPlan());
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(v.plan.defaults).toEqual({
    checkInterval: '10s',
    lookback: '2m',
    baselineWindow: '1m',
    thresholds: {
      errorRate: { target: 0.01, rollback: 0.05 },
      successRate: { target: 0.99, rollback: 0.95 },
      p95Increase: { rollback: 0.5, minDeltaMs: 20 },
      servedShare: { tolerance: 0.1 },
      minSamples: 50,
      confidence: 1.96,
      falseRollback: 0.001,
    },
    maxMetricErrors: 6,
    maxExtensions: 3,
    rollbackWith: 'percent',
  });
});

test('rollbackConfidence, retired in 0.2.0, still loads with a warning naming it', () => {
  const plan = seedPlan();
  (plan.defaults.thresholds as Loose).rollbackConfidence = 4.5;
  const v = validatePlan(plan);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(v.warnings).toEqual([
    { path: 'defaults.thresholds.rollbackConfidence', message: expect.stringMatching(/no rule reads it since 0\.2\.0.*remove it/) },
  ]);
  expect(validatePlan(seedPlan()).warnings).toEqual([]);
});

test('a plan whose rendered input passes the workflow input limit is refused', () => {
  const plan = seedPlan();
  // Many fields within their own bounds, too much together.
  plan.phases = Array.from({ length: 20 }, (_, i) => ({
    ...plan.phases[0],
    name: `phase-${i}`,
    group: `g${i}`,
    endpoints: Array.from({ length: 200 }, (_, j) => `GET /${'e'.repeat(150)}/${j}`),
  }));
  expect(JSON.stringify(plan).length).toBeGreaterThan(LIMITS.workflowInputBytes);
  expect(problemsOf(plan)).toEqual([
    expect.stringMatching(
      /^\(plan\): is too large or nested too deeply for a workflow input \(at most 512 KB as JSON/,
    ),
  ]);
});

test('at most LIMITS.problems problems are listed, then a count', () => {
  const plan = seedPlan() as Loose;
  for (let i = 0; i < 150; i++) plan[`unknown${i}`] = i;
  const v = validatePlan(plan);
  expect(v.ok).toBe(false);
  if (!v.ok) {
    expect(v.problems).toHaveLength(LIMITS.problems + 1);
    expect(v.problems.at(-1)).toEqual({ path: '(plan)', message: 'and 50 more problems' });
  }
});

test.each([
  [{ plan: {}, timeScale: 1e-320 }, 'timeScale: must be a number from 0.001 to 100000'],
  [{ plan: {}, timeScale: Infinity }, 'timeScale: must be a finite number (got Infinity)'],
  [{ plan: {}, timeScale: '60' }, 'timeScale: must be a number (got the text "60")'],
  [{ plan: {}, timeScale: 1e6 }, 'timeScale: must be a number from 0.001 to 100000'],
  [{ plan: {}, timeScal: 2 }, ': unknown key: "timeScal"'],
  [{}, 'plan: is required'],
])('the workflow input %j is refused', (input, expected) => {
  const r = rolloutInputSchema.safeParse(input);
  expect(r.success).toBe(false);
  if (!r.success)
    expect(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')).toContain(expected);
});

test('the workflow input keeps timeScale, plan and resume', () => {
  expect(rolloutInputSchema.parse({ plan: { a: 1 }, resume: { b: 2 } })).toEqual({
    plan: { a: 1 },
    resume: { b: 2 },
    timeScale: 1,
  });
  expect(rolloutInputSchema.parse({ plan: {}, timeScale: 0.001 }).timeScale).toBe(0.001);
});
