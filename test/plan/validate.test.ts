import path from 'node:path';
import { formatDuration, formatLimit, parseDuration } from '../../src/plan/duration';
import { loadPlan } from '../../src/plan/load';
import { validatePlan } from '../../src/plan/validate';
import { checksOf, checksOff } from '../../src/plan/checks';
import { seedPlan } from '../helpers/workflow-harness';

test.each([
  ['10s', 10_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['1h30m', 5_400_000],
  ['500ms', 500],
  ['2d', 172_800_000],
  ['', undefined],
  ['10', undefined],
  ['1x', undefined],
  ['continuous', undefined],
  ['0.001ms', 0.001],
  [`${'9'.repeat(400)}s`, undefined], // would be Infinity
  [`${'1'.repeat(32)}s`, undefined], // longer than any duration a person means
])('parseDuration(%j) = %j', (text, ms) => {
  expect(parseDuration(text)).toBe(ms);
});

test.each([
  [5_400_000, '1h30m'],
  [10_000, '10s'],
  [250, '250ms'],
])('formatDuration(%j) = %j', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test.each([
  [2_592_000_000, '30d'],
  [86_400_000, '1d'],
  [600_000, '10m'],
  [90_000, '90s'],
  [1_000, '1s'],
  [100, '100ms'],
])('formatLimit(%j) = %j', (ms, text) => {
  expect(formatLimit(ms)).toBe(text);
});

test('the seed plan file is valid and says exactly what the seed says', async () => {
  const v = await loadPlan(path.resolve(__dirname, '../../plans/phase2-3.yaml'));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  const steps = v.plan.phases.map(
    (p) => `${p.group}: ${p.steps.map((s) => `${s.percent}/${s.observe}`).join(' ')}`,
  );
  expect(steps).toEqual([
    'read: 10/30m 25/1h 50/2h 100/continuous',
    'write: 5/1h 10/2h 25/4h 50/8h 100/continuous',
  ]);
  expect(v.plan.phases[1].approval).toBe('before-start');
  expect(v.plan.defaults.thresholds).toMatchObject({
    errorRate: { target: 0.01, rollback: 0.05 },
    successRate: { target: 0.99, rollback: 0.95 },
    p95Increase: { rollback: 0.5 },
    servedShare: { tolerance: 0.1 },
  });
  const json = await loadPlan(path.resolve(__dirname, '../../plans/phase2-3.json'));
  expect(json.ok && json.plan).toEqual(v.plan);
});

type Mutator = (p: ReturnType<typeof seedPlan>) => void;
const cases: Array<[string, Mutator, string]> = [
  [
    'percent above 100',
    (p) => (p.phases[0].steps[0].percent = 101),
    'phases[0].steps[0].percent: must be 0..100',
  ],
  [
    'negative percent',
    (p) => (p.phases[0].steps[0].percent = -1),
    'phases[0].steps[0].percent: must be 0..100',
  ],
  [
    'steps that go down',
    (p) => (p.phases[1].steps[2].percent = 7),
    'phases[1].steps[2].percent: must be greater than the step before (10)',
  ],
  ['an empty phase', (p) => (p.phases[0].steps = []), 'phases[0].steps: must have at least one step'],
  ['no phases', (p) => (p.phases = []), 'phases: must have at least one phase'],
  [
    'duplicate groups',
    (p) => (p.phases[1].group = 'read'),
    'phases[1].group: duplicate group "read" (already at phases[0].group)',
  ],
  [
    'an unknown check',
    (p) => ((p.phases[1] as { checks: string[] }).checks = ['writeProbe', 'telepathy']),
    'phases[1].checks[1]:',
  ],
  [
    'a bad duration',
    (p) => (p.phases[0].steps[0].observe = '30 minutes'),
    'phases[0].steps[0].observe: must be a duration',
  ],
  [
    'continuous before the end',
    (p) => (p.phases[0].steps[1].observe = 'continuous'),
    'phases[0].steps[1].observe: "continuous" is only allowed on the last step',
  ],
  [
    'a bad endpoint',
    (p) => (p.phases[0].endpoints[0] = '/api/v1/system/info'),
    'phases[0].endpoints[0]: must look like "GET /api/v1/path"',
  ],
  ['a missing target url', (p) => delete (p.target as { baseUrl?: string }).baseUrl, 'target.baseUrl:'],
  [
    'consistency check without a store',
    (p) => delete p.target.consistency,
    'phases[1].checks: dataConsistency needs target.consistency',
  ],
];

test.each(cases)('rejects %s, naming the path', (_name, mutate, expected) => {
  const plan = seedPlan();
  mutate(plan);
  const v = validatePlan(plan);
  expect(v.ok).toBe(false);
  if (!v.ok) expect(v.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toContain(expected);
});

test('reports every problem at once', () => {
  const plan = seedPlan();
  plan.phases[0].steps[0].percent = -5;
  plan.phases[1].group = 'read';
  plan.phases[1].steps[1].percent = 1;
  const v = validatePlan(plan);
  expect(v.ok).toBe(false);
  if (!v.ok)
    expect(v.problems.map((p) => p.path).sort()).toEqual([
      'phases[0].steps[0].percent',
      'phases[1].group',
      'phases[1].steps[1].percent',
    ]);
});

test('warns when two groups share one environment variable (the seed trap)', () => {
  const plan = seedPlan();
  plan.target.traffic = {
    type: 'env-file',
    path: './backend.env',
    restartCommand: 'true',
    healthUrl: 'http://127.0.0.1:8000/healthz',
  };
  const shared = validatePlan(plan);
  expect(shared.ok && shared.warnings.map((w) => w.message)).toEqual([
    'groups read, write share the variable ROLLOUT_PERCENT: changing one changes the others',
  ]);
  plan.target.traffic.variables = { read: 'ROLLOUT_PERCENT_READ', write: 'ROLLOUT_PERCENT_WRITE' };
  const separate = validatePlan(plan);
  expect(separate.ok && separate.warnings).toEqual([]);
});

describe('checks as switches', () => {
  test.each<[string, unknown, string[]]>([
    ['no checks: the defaults', undefined, ['functional', 'errorRate', 'successRate', 'p95', 'servedShare']],
    ['a list adds to the defaults', ['dataConsistency'], ['functional', 'errorRate', 'successRate', 'p95', 'servedShare', 'dataConsistency']],
    ['a map turns p95 off (metrics without a histogram)', { p95: 'off' }, ['functional', 'errorRate', 'successRate', 'servedShare']],
    ['a map turns one on and one off', { servedShare: 'off', writeProbe: 'on' }, ['functional', 'errorRate', 'successRate', 'p95', 'writeProbe']],
  ])('%s', (_name, checks, expected) => {
    const plan = seedPlan();
    (plan.phases[0] as Record<string, unknown>).checks = checks;
    const v = validatePlan(plan);
    if (!v.ok) throw new Error(JSON.stringify(v.problems));
    expect(checksOf(v.plan.phases[0])).toEqual(expected);
    expect(checksOff(v.plan.phases[0])).toEqual(checks && !Array.isArray(checks) ? Object.keys(checks as object).filter((k) => (checks as Record<string, string>)[k] === 'off') : []);
  });

  test('a switch other than on or off, or an unknown check, is refused with its path', () => {
    const plan = seedPlan();
    (plan.phases[0] as Record<string, unknown>).checks = { p95: 'no' };
    const v = validatePlan(plan);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.problems.map((p) => p.path).join(' ')).toMatch(/phases\[0\]\.checks/);
  });
});
