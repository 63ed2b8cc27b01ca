/**
 * `npx rollout init` as an operator runs it (short-lived CLI processes, no Temporal): flags or
 * piped answers, refusals that write nothing, and verify run on the plan it wrote (against the
 * example backend in-process).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBackend, type RunningBackend } from '../../example-backend/app';
import { loadPlanForCli } from '../../src/cli/plan-file';
import { rollout } from './cli-process';

jest.setTimeout(60_000);

let dir: string;
let n = 0;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'rollout-init-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const fresh = () => path.join(dir, `plan-${++n}.yaml`);
const FLAGS = [
  '--target-id',
  'orders-api',
  '--target-url',
  'http://127.0.0.1:9',
  '--router',
  'http',
  '--endpoint',
  'GET /orders',
];
const init = (args: string[], input?: string) => rollout(['init', ...args], {}, 60_000, input);

test('--yes with a flag missing: exit 2 naming it, nothing written', async () => {
  const out = fresh();
  const r = await init(['--yes', '--out', out, '--target-id', 'orders-api', '--endpoint', 'GET /a']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/missing --target-url, --router .*nothing was written/);
  expect(existsSync(out)).toBe(false);
});

test('stdin not a terminal counts as --yes: a router without its specifics names them', async () => {
  const out = fresh();
  const r = await init([...FLAGS, '--router', 'haproxy', '--out', out]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('missing --haproxy-socket, --backend, --legacy-server, --domain-server');
  expect(existsSync(out)).toBe(false);
});

test('an existing --out is not overwritten without --force', async () => {
  const out = fresh();
  writeFileSync(out, 'mine\n');
  const r = await init([...FLAGS, '--out', out, '--no-verify']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${out}: already exists; give --force`);
  expect(readFileSync(out, 'utf8')).toBe('mine\n');
  const forced = await init([...FLAGS, '--out', out, '--no-verify', '--force']);
  expect(forced.code).toBe(0);
  expect(readFileSync(out, 'utf8')).toContain('name: orders-api-rollout');
});

test('answers that make no valid plan: the problems with their paths, nothing written', async () => {
  const out = fresh();
  const r = await init([
    ...FLAGS,
    '--endpoint',
    'GET /orders/{id}',
    '--endpoint',
    'FETCH /x',
    '--out',
    out,
    '--no-verify',
  ]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('the answers do not make a valid plan (2 problems); nothing was written:');
  expect(r.stderr).toContain('phases[0].endpoints[1]: GET /orders/{id}: add a read probe');
  expect(r.stderr).toMatch(/phases\[1\]\.endpoints\[0\]: must look like/);
  expect(existsSync(out)).toBe(false);
});

test('a bad flag value is named before anything else', async () => {
  const r = await init([...FLAGS, '--router', 'istio', '--out', fresh()]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(
    '--router: unknown router "istio" (one of http, env-file, haproxy, nginx, command)',
  );
});

test('--no-verify: the plan is written and loads as start loads it', async () => {
  const out = fresh();
  const r = await init([...FLAGS, '--endpoint', 'PUT /orders/{id}', '--out', out, '--no-verify']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  expect(r.stdout).toContain(`wrote ${out}`);
  expect(r.stdout).not.toContain('running: npx rollout verify');
  const { plan } = await loadPlanForCli(out);
  expect(plan.phases.map((p) => p.group)).toEqual(['read', 'write']);
});

test('--interactive asks for what is missing, reading answers from stdin', async () => {
  const out = fresh();
  const answers = [
    'orders-api',
    'not a url',
    'http://127.0.0.1:9',
    'command',
    '/opt/set {group} {percent}',
    '/opt/read {group}',
    '',
    '',
    'GET /orders',
    '',
  ];
  const r = await init(['--interactive', '--out', out, '--no-verify'], `${answers.join('\n')}\n`);
  // Nothing wrong but the programs, which the worker's policy (no commands by default) must allow.
  expect(r.stderr).toBe(
    "the worker's policy does not allow everything this plan reaches; set, in npm start's environment and in this shell:\n  export ROLLOUT_ALLOW_COMMANDS=/opt\n",
  );
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('must be an http(s) URL (got "not a url")');
  const { plan } = await loadPlanForCli(out);
  expect(plan.target.traffic).toMatchObject({ type: 'command', set: ['/opt/set', '{group}', '{percent}'] });
  expect(plan.target.metrics.type).toBe('exposition');
});

test('--interactive with stdin ending early: exit 2 naming the answer', async () => {
  const out = fresh();
  const r = await init(['--interactive', '--out', out], 'orders-api\n');
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('--target-url: no answer (stdin ended); nothing was written');
  expect(existsSync(out)).toBe(false);
});

describe('verify on the plan written', () => {
  let backend: RunningBackend;
  // Its stores in the suite's directory, removed with it.
  beforeAll(async () => {
    backend = await startBackend({
      port: 0,
      dataDir: mkdtempSync(path.join(dir, 'backend-')),
      adminToken: 'tok',
      log: () => undefined,
    });
  });
  afterAll(() => backend.close());

  test("runs in the same command; init exits with verify's code", async () => {
    const out = fresh();
    const r = await rollout(
      [
        'init',
        '--target-id',
        'camera-api',
        '--target-url',
        backend.url,
        '--router',
        'http',
        '--endpoint',
        'GET /api/v1/system/info',
        '--out',
        out,
      ],
      { ADMIN_TOKEN: 'tok' },
    );
    expect(r.stdout).toContain(`running: npx rollout verify ${out} --explain`);
    expect(r.stdout).toContain('what the metrics sample reads');
    expect(r.stdout).toMatch(/verdict: PASS/);
    // A backend that has served nothing yet declares its counters without series: quiet, not blind.
    expect(r.stdout).toContain('http_requests_total is declared (HELP/TYPE) but has no series yet');
    expect(r.code).toBe(0);
  });

  test("a service verify cannot reach: the plan stays written, exit with verify's code", async () => {
    const out = fresh();
    const r = await init([...FLAGS, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('rollout: verify: cannot read the traffic switches of orders-api');
    expect(r.stderr).toContain(`the plan is written; once that is fixed: npx rollout verify ${out}`);
    expect(existsSync(out)).toBe(true);
  });
});

test('nginx of your own: -p/-c in its commands, the starting file written at 0%, the policy variables to set', async () => {
  const out = fresh();
  const routerDir = mkdtempSync(path.join(dir, 'nginx-'));
  const file = path.join(routerDir, 'orders.conf');
  // The worker's defaults (the suite's environment allows more).
  const policy = { ROLLOUT_ALLOW_PATHS: '.', ROLLOUT_ALLOW_COMMANDS: '' };
  const r = await rollout(
    [
      'init',
      ...FLAGS,
      '--router',
      'nginx',
      '--nginx-file',
      file,
      '--nginx-bin',
      '/usr/sbin/nginx',
      '--nginx-prefix',
      routerDir,
      '--nginx-conf',
      'conf/nginx.conf',
      '--legacy-address',
      '127.0.0.1:18101',
      '--domain-address',
      '127.0.0.1:18102',
      '--out',
      out,
      '--no-verify',
    ],
    policy,
  );
  expect(r.code).toBe(0);
  const { plan } = await loadPlanForCli(out);
  expect(plan.target.traffic).toMatchObject({
    type: 'nginx',
    testCommand: ['/usr/sbin/nginx', '-p', routerDir, '-c', 'conf/nginx.conf', '-t'],
    reloadCommand: ['/usr/sbin/nginx', '-p', routerDir, '-c', 'conf/nginx.conf', '-s', 'reload'],
  });
  // The file the provider owns, as it renders it with no group moved yet.
  expect(r.stdout).toContain(`wrote ${file} with every group at 0%`);
  expect(readFileSync(file, 'utf8')).toMatch(/upstream orders_api_read \{[^}]*127\.0\.0\.1:18102[^}]*\}/);
  // Outside the clone and a program: what to allow, keeping what is allowed now.
  expect(r.stderr).toContain("the worker's policy does not allow everything this plan reaches");
  expect(r.stderr).toMatch(
    new RegExp(
      `export .*ROLLOUT_ALLOW_PATHS=\\.,${routerDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( |$)`,
      'm',
    ),
  );
  expect(r.stderr).toMatch(/ROLLOUT_ALLOW_COMMANDS=\/usr\/sbin( |$)/m);
  // Run again over the same router file: it is the operator's now, left as it is.
  writeFileSync(file, '# mine\n');
  const again = await init([
    ...FLAGS,
    '--router',
    'nginx',
    '--nginx-file',
    file,
    '--legacy-address',
    '127.0.0.1:18101',
    '--domain-address',
    '127.0.0.1:18102',
    '--out',
    fresh(),
    '--no-verify',
  ]);
  expect(again.code).toBe(0);
  expect(readFileSync(file, 'utf8')).toBe('# mine\n');
});
