import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PlanFileError, parsePlanText, validatePlanDocument } from '../../src/plan/load';
import { validatePlan } from '../../src/plan/validate';
import { seedPlan } from '../helpers/workflow-harness';

/** Strict plans: unknown keys, merge keys, duplicate keys, comment keys (issue 8, item 1). */
type Plan = ReturnType<typeof seedPlan>;
type Loose = Record<string, unknown>;
const seedYaml = readFileSync(path.resolve(__dirname, '../../plans/phase2-3.yaml'), 'utf8');

function problemsOf(input: unknown): string[] {
  const v = validatePlan(input);
  return v.ok ? [] : v.problems.map((p) => `${p.path}: ${p.message}`);
}

const envFile = (p: Plan): Loose => {
  const t: Loose = {
    type: 'env-file',
    path: './b.env',
    restartCommand: 'true',
    healthUrl: 'http://127.0.0.1:8000/h',
  };
  p.target.traffic = t as Plan['target']['traffic'];
  return t;
};
const prometheus = (p: Plan): Loose => {
  const m: Loose = { type: 'prometheus', url: 'http://127.0.0.1:9090' };
  p.target.metrics = m as Plan['target']['metrics'];
  return m;
};
const withCommand = (p: Plan): Loose => {
  const c: Loose = { run: 'true' };
  (p.phases[1] as Loose).command = c;
  return c;
};

// [where, the mapping to add the key to, the typo, what must be said]
const typos: Array<[string, (p: Plan) => Loose, string, string]> = [
  ['plan', (p) => p as Loose, 'aprovers', 'aprovers: unknown key; did you mean "approvers"?'],
  ['plan', (p) => p as Loose, 'Name', 'Name: unknown key; did you mean "name"?'],
  ['target', (p) => p.target as Loose, 'baseURL', 'target.baseURL: unknown key; did you mean "baseUrl"?'],
  [
    'http traffic',
    (p) => p.target.traffic as Loose,
    'token_env',
    'target.traffic.token_env: unknown key; did you mean "tokenEnv"?',
  ],
  [
    'env-file traffic',
    envFile,
    'restartComand',
    'target.traffic.restartComand: unknown key; did you mean "restartCommand"?',
  ],
  [
    'exposition metrics',
    (p) => p.target.metrics as Loose,
    'timout',
    'target.metrics.timout: unknown key; did you mean "timeout"?',
  ],
  [
    'prometheus metrics',
    prometheus,
    'selecter',
    'target.metrics.selecter: unknown key; did you mean "selector"?',
  ],
  [
    'consistency',
    (p) => p.target.consistency as Loose,
    'databse',
    'target.consistency.databse: unknown key; did you mean "database"?',
  ],
  [
    'defaults',
    (p) => p.defaults as Loose,
    'checkinterval',
    'defaults.checkinterval: unknown key; did you mean "checkInterval"?',
  ],
  [
    'thresholds',
    (p) => p.defaults.thresholds as Loose,
    'errorRates',
    'defaults.thresholds.errorRates: unknown key; did you mean "errorRate"?',
  ],
  [
    'a band',
    (p) => p.defaults.thresholds!.errorRate as Loose,
    'targte',
    'defaults.thresholds.errorRate.targte: unknown key; did you mean "target"?',
  ],
  [
    'p95Increase',
    (p) => p.defaults.thresholds!.p95Increase as Loose,
    'minDelta',
    'defaults.thresholds.p95Increase.minDelta: unknown key; did you mean "minDeltaMs"?',
  ],
  [
    'servedShare',
    (p) => p.defaults.thresholds!.servedShare as Loose,
    'tolerence',
    'defaults.thresholds.servedShare.tolerence: unknown key; did you mean "tolerance"?',
  ],
  [
    'a phase',
    (p) => p.phases[1] as Loose,
    'approvl',
    'phases[1].approvl: unknown key; did you mean "approval"?',
  ],
  ['a phase', (p) => p.phases[1] as Loose, 'check', 'phases[1].check: unknown key; did you mean "checks"?'],
  [
    'a step',
    (p) => p.phases[0].steps[2] as Loose,
    'observ',
    'phases[0].steps[2].observ: unknown key; did you mean "observe"?',
  ],
  ['command', withCommand, 'timeOut', 'phases[1].command.timeOut: unknown key; did you mean "timeout"?'],
  [
    'notify',
    (p) => ((p as Loose).notify = { webhookUrl: 'http://127.0.0.1:1/hook' }) as Loose,
    'webhook',
    'notify.webhook: unknown key; did you mean "webhookUrl"?',
  ],
];

test.each(typos)('an unknown key in %s is an error with a suggestion', (_where, at, key, expected) => {
  const plan = seedPlan();
  at(plan)[key] = 'x';
  expect(problemsOf(plan)).toContain(expected);
});

test('a key nothing resembles lists the keys there are', () => {
  const plan = seedPlan() as Loose;
  plan.colour = 'blue';
  expect(problemsOf(plan)).toEqual([
    'colour: unknown key (expected one of: name, target, approvers, notify, defaults, phases)',
  ]);
});

test('a typo in place of a key that has a default does not validate with the default (the approval gate)', () => {
  const plan = seedPlan();
  const phase = plan.phases[1] as Loose;
  phase.approvl = phase.approval;
  delete phase.approval;
  const v = validatePlan(plan);
  expect(v.ok).toBe(false);
  expect(problemsOf(plan)).toEqual(['phases[1].approvl: unknown key; did you mean "approval"?']);
});

test('x- keys are comments: allowed in every mapping, absent from the validated plan', () => {
  const plan = seedPlan() as Plan & Loose;
  plan['x-owner'] = 'team camera';
  (plan.target as Loose)['x-note'] = { any: ['thing'] };
  (plan.defaults.thresholds as Loose)['x-why'] = 'seed §4';
  (plan.phases[1].steps[0] as Loose)['x-ticket'] = 42;
  const v = validatePlan(plan);
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(JSON.stringify(v.plan)).not.toMatch(/"x-/);
  expect(JSON.stringify(v.input)).not.toMatch(/"x-/);
  const plain = validatePlan(seedPlan());
  expect(plain.ok && plain.plan).toEqual(v.plan);
});

const mergePlan = seedYaml
  .replace(
    'phases:\n',
    'x-write-defaults: &write-defaults\n  approval: before-start\n  checks: [dataConsistency, writeProbe]\nphases:\n',
  )
  .replace(
    / {4}approval: before-start.*\n {4}checks: \[dataConsistency, writeProbe\]\n/,
    '    <<: *write-defaults\n',
  );

test('YAML merge keys are applied: <<: *write-defaults carries approval and checks', () => {
  expect(mergePlan).toContain('<<: *write-defaults');
  const v = validatePlan(parsePlanText('merge.yaml', mergePlan));
  if (!v.ok) throw new Error(JSON.stringify(v.problems));
  expect(v.plan.phases[1]).toMatchObject({
    approval: 'before-start',
    checks: ['dataConsistency', 'writeProbe'],
  });
  const seed = validatePlan(seedPlan());
  expect(seed.ok && seed.plan).toEqual(v.plan);
});

test('a typo inside a merged anchor is reported where it is merged', () => {
  const text = mergePlan.replace(
    'x-write-defaults: &write-defaults\n  approval:',
    'x-write-defaults: &write-defaults\n  approvl:',
  );
  expect(problemsOf(parsePlanText('merge.yaml', text))).toEqual([
    'phases[1].approvl: unknown key; did you mean "approval"?',
  ]);
});

test('keys written next to a merge key win over the merged ones', () => {
  const text = mergePlan.replace(
    '    <<: *write-defaults\n',
    '    <<: *write-defaults\n    approval: none\n',
  );
  const v = validatePlan(parsePlanText('merge.yaml', text));
  expect(v.ok && v.plan.phases[1].approval).toBe('none');
});

const refused = (file: string, text: string): PlanFileError => {
  try {
    parsePlanText(file, text);
  } catch (err) {
    if (err instanceof PlanFileError) return err;
    throw err;
  }
  throw new Error(`${file} was accepted`);
};

test.each([
  ['YAML, same spelling', 'plan.yaml', 'a: 1\nb:\n  approval: before-start\n  approval: none\n', 4, 3],
  ['YAML, quoted and plain', 'plan.yaml', 'approval: before-start\n"approval": none\n', 2, 1],
  ['YAML, a number and a string', 'plan.yaml', 'x:\n  1: a\n  "1": b\n', 3, 3],
  ['JSON', 'plan.json', '{\n  "phases": [{"approval":"before-start","approval":"none"}]\n}', 2, 41],
  ['JSON, escaped spelling', 'plan.json', '{"a": 1,\n "\\u0061": 2}', 2, 2],
])('a duplicate key is refused with line and column (%s)', (_name, file, text, line, column) => {
  const err = refused(file, text);
  expect(err.line).toBe(line);
  expect(err.column).toBe(column);
  expect(err.headline).toMatch(
    new RegExp(`^${file}:${line}:${column}: not valid (YAML|JSON): duplicate key`),
  );
});

test('the seed JSON twin with its approval written twice (last "none") is refused, not last-wins', () => {
  const json = readFileSync(path.resolve(__dirname, '../../plans/phase2-3.json'), 'utf8');
  const twice = json.replace('"approval": "before-start"', '"approval": "before-start", "approval": "none"');
  expect(twice).not.toBe(json);
  expect(refused('phase2-3.json', twice).headline).toMatch(
    /^phase2-3\.json:\d+:\d+: not valid JSON: duplicate key "approval"/,
  );
});

test('the workflow-input wrapper is strict too', () => {
  const v = validatePlanDocument({ plan: seedPlan(), timescale: 60, 'x-note': 'ok' });
  expect(v.ok === false && v.problems).toEqual([
    { path: 'timescale', message: 'unknown key; did you mean "timeScale"?' },
  ]);
  const inner = validatePlanDocument({ plan: { ...seedPlan(), nmae: 'x' } });
  expect(inner.ok === false && inner.problems.map((p) => p.path)).toEqual(['plan.nmae']);
  const scaled = validatePlanDocument({ plan: seedPlan(), timeScale: 60 });
  expect(scaled.ok && scaled.timeScale).toBe(60);
});
