import Database from 'better-sqlite3';
import { createActivities } from '../../src/activities';
import type { VerifyStageInput } from '../../src/contracts/activities';
import type { Plan } from '../../src/plan/schema';
import { createConsistencyProvider } from '../../src/providers/consistency';
import { TEST_POLICY_ENV } from '../helpers/policy';
import { seedProbes } from '../helpers/seed-plan';
import { ADMIN_TOKEN, serve, startTestBackend, type Backend } from '../providers/support';

const READS = ['GET /api/v1/system/info', 'GET /api/v1/alerts/history-db', 'GET /api/v1/alerts/rules'];
const WRITES = [
  'POST /api/v1/cameras',
  'PUT /api/v1/cameras/{camera_id}',
  'DELETE /api/v1/cameras/{camera_id}',
];

/** The seed plan's target at `baseUrl`; without `stores`, its lifecycles read the listings only. */
function targetFor(baseUrl: string, stores?: { dbPath: string; yamlPath: string }): Plan['target'] {
  const probes = seedProbes();
  if (!stores) for (const w of probes.writes) delete w.lookup;
  return {
    id: 'camera-api',
    baseUrl,
    probes,
    traffic: { type: 'http', url: `${baseUrl}/admin/rollout`, tokenEnv: 'CAMERA_ADMIN_TOKEN', timeout: '5s' },
    metrics: { type: 'exposition', url: `${baseUrl}/metrics`, timeout: '5s' },
    ...(stores
      ? { consistency: { type: 'sqlite-yaml' as const, database: stores.dbPath, yaml: stores.yamlPath } }
      : {}),
  };
}

function input(
  target: Plan['target'],
  over: Partial<VerifyStageInput> & { endpoints?: string[]; command?: { run: string; timeout: string } },
): VerifyStageInput {
  return {
    rolloutId: 'rollout-camera-api',
    target,
    phase: {
      name: 'phase3-write',
      group: 'write',
      endpoints: over.endpoints ?? WRITES,
      command: over.command,
    },
    percent: 5,
    checks: over.checks ?? ['functional'],
  };
}

describe('verifyStage against the example backend', () => {
  let backend: Backend;
  const acts = createActivities({ env: { CAMERA_ADMIN_TOKEN: ADMIN_TOKEN, ...TEST_POLICY_ENV } });

  beforeEach(async () => {
    backend = await startTestBackend({ USE_DOMAIN_SERVICE: 'true' });
  });
  afterEach(() => backend.dispose());

  const cameraIds = async () =>
    ((await backend.call('GET', '/api/v1/cameras')).body.items as Array<{ id: string }>)
      .map((c) => c.id)
      .sort();
  const dbIds = () => {
    const db = new Database(backend.dbPath, { readonly: true });
    try {
      return (db.prepare('SELECT id FROM cameras ORDER BY id').all() as Array<{ id: string }>).map(
        (r) => r.id,
      );
    } finally {
      db.close();
    }
  };
  const SEED = ['cam-001', 'cam-002', 'cam-003', 'cam-004', 'cam-005'];

  test('functional, read endpoints: both implementations answer the same shapes', async () => {
    const report = await acts.verifyStage(input(targetFor(backend.url), { endpoints: READS }));
    expect(report.functional).toEqual({ ok: true, checked: 3, failures: [], serverErrors: 0 });
    expect(report.writeProbe).toBeUndefined();
    expect(Date.parse(report.at)).not.toBeNaN();
  });

  test('functional, write endpoints: a create/update/delete cycle through each implementation, nothing left', async () => {
    const report = await acts.verifyStage(input(targetFor(backend.url), {}));
    expect(report.functional).toEqual({ ok: true, checked: 3, failures: [], serverErrors: 0 });
    expect(await cameraIds()).toEqual(SEED);
  });

  test('functional: a failing domain implementation is reported as server errors', async () => {
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 1 } });
    const report = await acts.verifyStage(
      input(targetFor(backend.url), { endpoints: [...READS, ...WRITES] }),
    );
    const f = report.functional!;
    expect(f.ok).toBe(false);
    expect(f.failures).toContain(
      'GET /api/v1/system/info via domain: status 500: {"error":"injected fault"}',
    );
    expect(f.failures.some((x) => x.startsWith('POST /api/v1/cameras via domain: status 500'))).toBe(true);
    expect(f.failures.some((x) => x.includes('via legacy'))).toBe(false);
    expect(f.serverErrors).toBe(4);
    await backend.admin('DELETE', '/admin/faults');
    expect(await cameraIds()).toEqual(SEED);
  });

  test('functional: endpoints it cannot check are failures, not silent passes', async () => {
    const report = await acts.verifyStage(
      input(targetFor(backend.url), {
        endpoints: ['GET /api/v1/cameras/{camera_id}', 'PATCH /api/v1/things'],
      }),
    );
    expect(report.functional!.failures).toEqual([
      'GET /api/v1/cameras/{camera_id}: cannot fill {camera_id}: declare a read probe with params in target.probes.reads',
      'PATCH /api/v1/things: no write lifecycle in target.probes.writes exercises this endpoint',
    ]);
    expect(report.functional!.serverErrors).toBe(0);
  });

  test('writeProbe: create, update, failed writes and delete through domain, checked in both stores', async () => {
    const report = await acts.verifyStage(
      input(targetFor(backend.url, backend), { checks: ['writeProbe', 'dataConsistency'] }),
    );
    expect(report.writeProbe!.failure).toBeUndefined();
    expect(report.writeProbe!.ok).toBe(true);
    const steps = report.writeProbe!.steps.join('\n');
    expect(steps).toMatch(/after create: rollout-probe-\w+ in database, yaml, legacy and domain listings/);
    expect(steps).toMatch(
      /after update: rollout-probe-\w+ in database, yaml, legacy and domain listings, with the sent fields/,
    );
    expect(steps).toContain('update with an injected yaml failure: failed as it must (5xx)');
    expect(steps).toMatch(
      /after update with an injected yaml failure: rollout-probe-\w+ unchanged in database, yaml/,
    );
    expect(steps).toMatch(
      /after delete: rollout-probe-\w+ gone from database, yaml, legacy and domain listings/,
    );
    expect(steps).toMatch(
      /after create with an injected yaml failure: rollout-probe-\w+-failed gone from database, yaml/,
    );
    expect(steps).toMatch(
      /after create with an injected db failure: rollout-probe-\w+-failed gone from database, yaml/,
    );
    expect(report.consistency).toEqual({ ok: true, checked: 5, differences: [] });
    expect(dbIds()).toEqual(SEED);
  });

  test('writeProbe removes probe cameras a crashed earlier probe left behind', async () => {
    const leftover = {
      id: 'rollout-probe-crashed',
      name: 'left over',
      rtsp_url: 'rtsp://127.0.0.1/x',
      tags: ['rollout-probe-0a1b2c3d4e'],
    };
    expect((await backend.call('POST', '/api/v1/cameras', leftover)).status).toBe(201);
    const tagged = {
      id: 'cam-tagged',
      name: 'tagged',
      rtsp_url: 'rtsp://127.0.0.1/y',
      tags: ['x', 'rollout-probe-99aa88bb77'],
    };
    expect((await backend.call('POST', '/api/v1/cameras', tagged)).status).toBe(201);
    const report = await acts.verifyStage(input(targetFor(backend.url, backend), { checks: ['writeProbe'] }));
    expect(report.writeProbe!.ok).toBe(true);
    expect(report.writeProbe!.steps[0]).toBe(
      'removed 2 leftover probe record(s): cam-tagged, rollout-probe-crashed',
    );
    expect(dbIds()).toEqual(SEED);
  });

  test('writeProbe removes a leftover that only one store kept', async () => {
    await backend.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
    const half = {
      id: 'rollout-probe-half',
      name: 'half',
      rtsp_url: 'rtsp://127.0.0.1/h',
      tags: ['rollout-probe-5f5f5f5f5f'],
    };
    expect(
      (await backend.call('POST', '/api/v1/cameras', half, { 'X-Rollout-Force': 'domain' })).status,
    ).toBe(201);
    await backend.admin('DELETE', '/admin/faults');
    expect(dbIds()).toContain('rollout-probe-half');
    const report = await acts.verifyStage(
      input(targetFor(backend.url, backend), { checks: ['writeProbe', 'dataConsistency'] }),
    );
    expect(report.writeProbe!.steps[0]).toBe('removed 1 leftover probe record(s): rollout-probe-half');
    expect(report.writeProbe!.ok).toBe(true);
    expect(dbIds()).toEqual(SEED);
    expect(report.consistency!.ok).toBe(true);
  });

  test('writeProbe catches a domain write that skips the YAML file, and still cleans up', async () => {
    await backend.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
    const report = await acts.verifyStage(input(targetFor(backend.url, backend), { checks: ['writeProbe'] }));
    expect(report.writeProbe!.ok).toBe(false);
    expect(report.writeProbe!.failure).toMatch(/^after create: rollout-probe-\w+ is missing in the yaml$/);
    expect(report.writeProbe!.steps.join('\n')).toMatch(/cleanup removed rollout-probe-\w+/);
    expect(dbIds()).toEqual(SEED);
    const consistency = await createConsistencyProvider({
      type: 'sqlite-yaml',
      database: backend.dbPath,
      yaml: backend.yamlPath,
    }).compare();
    expect(consistency.ok).toBe(true);
  });

  test('writeProbe without a consistency provider checks through both implementations', async () => {
    const ok = await acts.verifyStage(input(targetFor(backend.url), { checks: ['writeProbe'] }));
    expect(ok.writeProbe!.ok).toBe(true);
    expect(ok.writeProbe!.steps.join('\n')).toMatch(
      /after create: rollout-probe-\w+ in legacy and domain listings/,
    );

    const withoutStores = { ...targetFor(backend.url), probes: seedProbes() };
    const refused = await acts.verifyStage(input(withoutStores, { checks: ['writeProbe'] }));
    expect(refused.writeProbe).toEqual({
      ok: false,
      steps: [],
      failure: 'lookup: consistency needs target.consistency',
    });

    await backend.admin('PUT', '/admin/faults', { domain: { yamlDesync: true } });
    const bad = await acts.verifyStage(input(targetFor(backend.url), { checks: ['writeProbe'] }));
    // Legacy reads the YAML file: the probe camera the domain wrote is not there.
    expect(bad.writeProbe!.failure).toMatch(/^after create: rollout-probe-\w+ is not listed via legacy$/);
  });

  test('writeProbe against a failing domain implementation reports the status and leaves nothing', async () => {
    await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 1 } });
    const report = await acts.verifyStage(input(targetFor(backend.url, backend), { checks: ['writeProbe'] }));
    expect(report.writeProbe!.ok).toBe(false);
    expect(report.writeProbe!.failure).toBe(
      'POST /api/v1/cameras via domain: status 500: {"error":"injected fault"} (expected 201)',
    );
    expect(dbIds()).toEqual(SEED);
  });

  test('dataConsistency reports differences that persist, and store errors as errors', async () => {
    const db = new Database(backend.dbPath);
    db.prepare("UPDATE cameras SET name = 'Renamed in the database only' WHERE id = 'cam-003'").run();
    db.close();
    const report = await acts.verifyStage(
      input(targetFor(backend.url, backend), { checks: ['dataConsistency'] }),
    );
    expect(report.consistency).toEqual({
      ok: false,
      checked: 5,
      differences: ['camera cam-003: name db="Renamed in the database only" yaml="Loading dock"'],
    });

    const missing = await acts.verifyStage(input(targetFor(backend.url), { checks: ['dataConsistency'] }));
    expect(missing.consistency).toEqual({
      ok: false,
      checked: 0,
      differences: [],
      error: 'dataConsistency needs target.consistency',
    });

    const broken = await acts.checkConsistency({
      consistency: { type: 'sqlite-yaml', database: `${backend.dbPath}.missing`, yaml: backend.yamlPath },
    });
    expect(broken.ok).toBe(false);
    expect(broken.error).toMatch(/cameras\.db\.missing: cannot open/);
  });
});

describe('verifyStage: the command check (a worker that trusts plans with shell commands)', () => {
  const acts = createActivities({
    env: { PATH: process.env.PATH, GREETING: 'hello', ROLLOUT_ALLOW_COMMANDS: '*', ROLLOUT_COMMAND_ENV: 'GREETING' },
  });
  const target = targetFor('http://127.0.0.1:9');

  test('exit 0 passes, with the tail of the output and the rollout context in the environment', async () => {
    const report = await acts.verifyStage(
      input(target, {
        checks: ['command'],
        command: { run: 'echo "$GREETING $ROLLOUT_GROUP $ROLLOUT_PERCENT"; echo warn >&2', timeout: '10s' },
      }),
    );
    expect(report.command).toEqual({
      ok: true,
      exitCode: 0,
      timedOut: false,
      output: 'hello write 5\nwarn\n',
    });
    expect(report.functional).toBeUndefined();
  });

  test('a non-zero exit fails', async () => {
    const report = await acts.verifyStage(
      input(target, { checks: ['command'], command: { run: 'echo broken; exit 2', timeout: '10s' } }),
    );
    expect(report.command).toMatchObject({ ok: false, exitCode: 2, timedOut: false, output: 'broken\n' });
  });

  test('a command past its timeout is killed with its children', async () => {
    const started = Date.now();
    const report = await acts.verifyStage(
      input(target, {
        checks: ['command'],
        command: { run: 'echo start; sleep 30 & wait', timeout: '500ms' },
      }),
    );
    expect(report.command).toMatchObject({ ok: false, timedOut: true, exitCode: null, output: 'start\n' });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('only the tail of a long output is kept', async () => {
    const report = await acts.verifyStage(
      input(target, { checks: ['command'], command: { run: 'seq 1 20000; echo END', timeout: '10s' } }),
    );
    expect(report.command!.output.length).toBeLessThanOrEqual(4100);
    expect(report.command!.output.endsWith('20000\nEND\n')).toBe(true);
    expect(report.command!.output.startsWith('…')).toBe(true);
  });
});

describe('verifyStage: answers a contract check must catch', () => {
  const good = { service: 'camera-api', version: '2.3.0', uptime_seconds: 5, cameras: 5 };
  const cases: Array<[string, (impl: string) => { body: unknown; servedBy?: string }, string]> = [
    [
      'a wrong type in the domain body',
      (impl) => ({ body: impl === 'domain' ? { ...good, version: 2 } : good }),
      'GET /api/v1/system/info via domain: response does not match the GET /api/v1/system/info schema: /version: must be string',
    ],
    [
      'an extra field only the domain has',
      (impl) => ({ body: impl === 'domain' ? { ...good, debug: true } : good }),
      'GET /api/v1/system/info: legacy and domain answers differ in structure: $.debug: only in domain',
    ],
    [
      'a target that ignores X-Rollout-Force',
      () => ({ body: good, servedBy: 'legacy' }),
      'GET /api/v1/system/info via domain: answered by legacy (X-Served-By); X-Rollout-Force is not honoured',
    ],
    [
      'HTML instead of JSON',
      () => ({ body: '<html>maintenance</html>' }),
      'GET /api/v1/system/info via legacy: response does not match the GET /api/v1/system/info schema: (root): must be object',
    ],
  ];
  test.each(cases)('%s', async (_name, answer, failure) => {
    const fake = await serve((req, res) => {
      const impl = String(req.headers['x-rollout-force']);
      const { body, servedBy } = answer(impl);
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-Served-By': servedBy ?? impl });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    try {
      const acts = createActivities({ env: {} });
      const report = await acts.verifyStage(
        input(targetFor(fake.url), { endpoints: ['GET /api/v1/system/info'] }),
      );
      expect(report.functional!.failures).toContain(failure);
      expect(report.functional!.ok).toBe(false);
      expect(report.functional!.serverErrors).toBe(0);
    } finally {
      await fake.close();
    }
  });

  test('an unreachable target counts as server errors', async () => {
    const report = await createActivities({ env: {} }).verifyStage(
      input(targetFor('http://127.0.0.1:9'), { endpoints: ['GET /api/v1/system/info'] }),
    );
    expect(report.functional!.serverErrors).toBe(2);
    expect(report.functional!.failures[0]).toMatch(
      /^GET \/api\/v1\/system\/info via legacy: GET http:\/\/127.0.0.1:9\/api\/v1\/system\/info: .*ECONNREFUSED/,
    );
  });
});
