/**
 * `npx rollout simulate` as an operator runs it: the seed plan's table, warnings where the plan
 * cannot see what it should, and bad options refused with exit 2 naming the option.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CliError } from '../../src/client/errors';
import { parseSimulateOptions } from '../../src/cli/simulate';
import { BACKEND_BUCKETS, FINE_BUCKETS } from '../../src/simulate/traffic-model';
import { rollout, writePlan } from '../cli/cli-process';

jest.setTimeout(120_000);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-simulate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SEED_PLAN = 'plans/phase2-3.yaml';

it('prints a row per step of the seed plan, with the bucket warning', async () => {
  const r = await rollout(['simulate', SEED_PLAN, '--runs', '2', '--seed', 'cli'], {});
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const rows = r.stdout.split('\n').filter((l) => /^phase[23]-/.test(l));
  expect(
    rows.map((l) =>
      l
        .split(/\s{2,}/)
        .slice(0, 2)
        .join(' '),
    ),
  ).toEqual([
    'phase2-read 10%/30m',
    'phase2-read 25%/1h',
    'phase2-read 50%/2h',
    'phase2-read 100%/continuous',
    'phase3-write 5%/1h',
    'phase3-write 10%/2h',
    'phase3-write 25%/4h',
    'phase3-write 50%/8h',
    'phase3-write 100%/continuous',
  ]);
  // A 50%-error canary is rolled back at every step, within the window.
  for (const row of rows) expect(row.split(/\s{2,}/)[5]).toMatch(/^\d+s \(100%\)$/);
  expect(r.stdout).toMatch(
    /50 requests\/s per group, per request, 0\.50% base errors, seed "cli", 2 runs per figure/,
  );
  // The backend's buckets put a 91 ms P95 in the 50–100 ms bucket: +50% cannot show.
  expect(r.stdout).toMatch(
    /warning: p95: P95 ≈ [\d.]+ms sits in the 50\.0ms–100\.0ms bucket: buckets cannot show \+50\.00%/,
  );
});

it('warns when minSamples cannot be reached in a window, and simulates sticky users', async () => {
  const plan = writePlan(dir, 'slow.yaml', {
    name: 'slow',
    target: {
      id: 'slow',
      baseUrl: 'http://127.0.0.1:9',
      traffic: { type: 'http', url: 'http://127.0.0.1:9/admin/rollout' },
      metrics: { type: 'exposition', url: 'http://127.0.0.1:9/metrics' },
    },
    phases: [
      { name: 'reads', group: 'read', endpoints: ['GET /x'], steps: [{ percent: 10, observe: '10m' }] },
    ],
  });
  const r = await rollout(
    ['simulate', plan, '--rps', '0.5', '--users', '300', '--runs', '2', '--buckets', 'fine'],
    {},
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/sticky 300 users/);
  expect(r.stdout).toMatch(
    /warning: reads 10%\/10m: about 30 domain requests per window at 0\.5 requests\/s \(minSamples 50\): the window is extended up to 3 times \(about 1\)/,
  );
  // Fine buckets: no bucket warning, but too few requests to show a P95 just over the bar.
  expect(r.stdout).not.toMatch(/warning: p95: P95 ≈/);
  expect(r.stdout).toMatch(
    /warning: p95: a P95 of \+60% \(just over the bar\) needs ≈ 8749 domain requests in a window .*fewer at 0\.5 requests\/s in reads 10%\/10m \(≈ 30\)/,
  );
});

const DEFAULTS = { rps: '50', errorRate: '0.005', seed: '1', runs: '100', buckets: 'backend' };

it.each([
  [{ rps: '0' }, /^--rps: must be a number of requests per second from 0\.01 to 100000 \(got "0"\)$/],
  [{ rps: 'Infinity' }, /^--rps: must be a number of requests per second/],
  [{ users: '1.5' }, /^--users: must be a whole number of users from 1/],
  [{ errorRate: '2' }, /^--error-rate: must be a number of errors per request from 0 to 0\.5 \(got "2"\)$/],
  [{ runs: 'many' }, /^--runs: must be a whole number of runs from 1 to 100000/],
  [{ seed: ' ' }, /^--seed: must not be empty/],
  [{ buckets: '0.1,0.05' }, /^--buckets: .*bounds must be ascending$/],
  [{ buckets: '0.1,x' }, /^--buckets: .*bound 2 \("x"\) is not a positive number of seconds$/],
  [{ buckets: '' }, /^--buckets: .*bound 1 \(""\) is not a positive number/],
  [{ threads: '2' }, /^--threads: not an option of this command$/],
])('refuses %j, naming the option', (bad, message) => {
  let error: unknown;
  try {
    parseSimulateOptions({ ...DEFAULTS, ...bad });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(CliError);
  expect((error as CliError).code).toBe(2);
  expect((error as CliError).message).toMatch(message);
});

it('takes the named layouts and a list of bounds', () => {
  expect(parseSimulateOptions(DEFAULTS).buckets).toBe(BACKEND_BUCKETS);
  expect(parseSimulateOptions({ ...DEFAULTS, buckets: 'fine' }).buckets).toBe(FINE_BUCKETS);
  expect(parseSimulateOptions({ ...DEFAULTS, buckets: '0.05, 0.1,0.15' }).buckets).toEqual([0.05, 0.1, 0.15]);
  expect(parseSimulateOptions({ ...DEFAULTS, users: '2000' })).toMatchObject({
    rps: 50,
    users: 2000,
    errorRate: 0.005,
  });
});

it('exits 2 on a bad or unknown option, or a plan without domain traffic, before any simulation', async () => {
  const idle = writePlan(dir, 'idle.yaml', {
    name: 'idle',
    target: {
      id: 'idle',
      baseUrl: 'http://127.0.0.1:9',
      traffic: { type: 'http', url: 'http://127.0.0.1:9/admin/rollout' },
      metrics: { type: 'exposition', url: 'http://127.0.0.1:9/metrics' },
    },
    phases: [
      { name: 'reads', group: 'read', endpoints: ['GET /x'], steps: [{ percent: 0, observe: '10m' }] },
    ],
  });
  const [bad, unknown, nothing] = await Promise.all([
    rollout(['simulate', SEED_PLAN, '--rps', '0', '--runs', 'x'], {}),
    rollout(['simulate', SEED_PLAN, '--frobnicate'], {}),
    rollout(['simulate', idle], {}),
  ]);
  expect(bad).toMatchObject({ code: 2, stdout: '' });
  expect(bad.stderr).toMatch(/^rollout: 2 invalid options:\n  --rps: must be .*\n  --runs: must be /);
  expect(unknown).toMatchObject({ code: 2, stdout: '' });
  expect(unknown.stderr).toMatch(/unknown option '--frobnicate'/);
  expect(nothing).toMatchObject({ code: 2, stdout: '' });
  expect(nothing.stderr).toMatch(/idle\.yaml: no step sends traffic to the domain implementation/);
});

it('refuses a plan that does not validate with exit 2', async () => {
  const plan = writePlan(dir, 'bad.yaml', { name: 'bad' });
  const r = await rollout(['simulate', plan], {});
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/target/);
});
