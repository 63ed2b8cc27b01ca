import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { startBackend } from '../../../example-backend/app';
import { DB_FILE, renderCamerasYaml, YAML_FILE } from '../../../example-backend/store';
import { freePort, startBackendProcess, type Child } from '../../helpers/processes';
import { createConsistencyProvider } from '../../../src/providers/consistency';
import { sameValue } from '../../../src/providers/consistency/values';
import { rejectionOf, tempDir } from '../support';

describe('sameValue across SQLite and YAML spellings', () => {
  test.each<[string, unknown, unknown, boolean]>([
    ['0/1 and booleans', 1, true, true],
    ['0 and true', 0, true, false],
    ['2 is no boolean', 2, true, false],
    ['JSON text and a list', '["a","b"]', ['a', 'b'], true],
    ['JSON text and another list', '["a"]', ['a', 'b'], false],
    ['list order matters', '["b","a"]', ['a', 'b'], false],
    ['null and absent', null, undefined, true],
    ['empty string is not absent', '', undefined, false],
    ['strings', 'A', 'A', true],
    ['number and numeric string', 5, '5', false],
  ])('%s', (_name, a, b, expected) => {
    expect(sameValue(a, b)).toBe(expected);
  });
});

describe('sqlite-yaml consistency provider on the example backend stores', () => {
  let dir: string;
  let db: string;
  let yaml: string;

  beforeEach(async () => {
    dir = tempDir('consistency');
    // The real backend creates and seeds both stores; it is closed before the files are edited.
    const backend = await startBackend({ port: 0, dataDir: dir, log: () => undefined });
    db = backend.dbPath;
    yaml = backend.yamlPath;
    await backend.close();
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const provider = (recheckDelayMs = 50) =>
    createConsistencyProvider({ type: 'sqlite-yaml', database: db, yaml }, { recheckDelayMs });
  const sql = (statement: string, ...params: unknown[]) => {
    const conn = new Database(db);
    try {
      conn.prepare(statement).run(...params);
    } finally {
      conn.close();
    }
  };
  /** cam-001 as the backend stores it, with every value read back from the database. */
  const seedCamera = () => {
    const conn = new Database(db, { readonly: true });
    try {
      const row = conn.prepare("SELECT * FROM cameras WHERE id = 'cam-001'").get() as Record<string, unknown>;
      return {
        ...(row as { id: string; name: string; location: string; rtsp_url: string }),
        enabled: row.enabled === 1,
        tags: JSON.parse(String(row.tags)) as string[],
        created_at: String(row.created_at),
        updated_at: String(row.updated_at),
      };
    } finally {
      conn.close();
    }
  };
  /** The same camera written by hand, the name as a plain (unquoted) scalar. */
  const plainYaml = (name: string) => {
    const c = seedCamera();
    return [
      'cameras:',
      `  - id: ${c.id}`,
      `    name: ${name}`,
      `    location: ${JSON.stringify(c.location)}`,
      `    rtsp_url: ${JSON.stringify(c.rtsp_url)}`,
      `    enabled: ${c.enabled}`,
      `    tags: ${JSON.stringify(c.tags)}`,
      `    created_at: ${JSON.stringify(c.created_at)}`,
      `    updated_at: ${JSON.stringify(c.updated_at)}`,
      '',
    ].join('\n');
  };
  const editYaml = (edit: (cameras: Array<Record<string, unknown>>) => void) => {
    const doc = YAML.parse(fs.readFileSync(yaml, 'utf8'));
    edit(doc.cameras);
    fs.writeFileSync(yaml, YAML.stringify(doc));
  };

  test('stores in step: ok, every camera checked', async () => {
    expect(await provider().compare()).toEqual({ ok: true, checked: 5, differences: [] });
  });

  test.each<[string, () => void, string[]]>([
    [
      'a name differs',
      () => sql("UPDATE cameras SET name = 'A' WHERE id = 'cam-002'"),
      ['camera cam-002: name db="A" yaml="Parking north"'],
    ],
    [
      'a tag list differs',
      () => sql(`UPDATE cameras SET tags = '["x"]' WHERE id = 'cam-001'`),
      ['camera cam-001: tags db=["x"] yaml=["indoor","entrance"]'],
    ],
    [
      'enabled differs',
      () => sql("UPDATE cameras SET enabled = 0 WHERE id = 'cam-001'"),
      ['camera cam-001: enabled db=0 yaml=true'],
    ],
    [
      'missing in yaml',
      () =>
        sql(
          "INSERT INTO cameras (id, name, location, rtsp_url, enabled, tags, created_at, updated_at) VALUES ('cam-9', 'N', '', 'rtsp://x', 1, '[]', 't', 't')",
        ),
      ['camera cam-9: missing in yaml (present in database)'],
    ],
    [
      'missing in the database',
      () => sql("DELETE FROM cameras WHERE id = 'cam-003'"),
      ['camera cam-003: missing in database (present in yaml)'],
    ],
  ])('%s: reported field by field', async (_name, change, expected) => {
    change();
    const report = await provider().compare();
    expect(report.ok).toBe(false);
    expect(report.differences).toEqual(expected);
  });

  test('yaml-side differences: an extra field, a changed URL, a duplicate', async () => {
    editYaml((cameras) => {
      cameras[0].rtsp_url = 'rtsp://elsewhere';
      cameras[1].owner = 'ops';
      cameras.push({ ...cameras[2] });
    });
    const report = await provider().compare();
    expect(report.differences).toEqual([
      'camera cam-003: listed more than once in yaml',
      'camera cam-001: rtsp_url db="rtsp://10.0.0.11:554/stream1" yaml="rtsp://elsewhere"',
      'camera cam-002: owner db=(absent) yaml="ops"',
    ]);
  });

  // The YAML version decides what `0o17` is: a string in 1.1, the number 15 in 1.2. Files without
  // a directive are read as 1.2, the version the backend writes and declares; a directive is honoured.
  test.each<[string, (name: string) => string, string[]]>([
    ["the backend's own file (1.2, quoted)", (name) => renderCamerasYaml([{ ...seedCamera(), name }]), []],
    [
      'a plain scalar, no directive (read as 1.2)',
      (name) => plainYaml(name),
      ['camera cam-001: name db="0o17" yaml=15'],
    ],
    ['a plain scalar under %YAML 1.1', (name) => `%YAML 1.1\n---\n${plainYaml(name)}`, []],
  ])('a camera named 0o17 in %s', async (_name, render, expected) => {
    sql("DELETE FROM cameras WHERE id != 'cam-001'");
    sql("UPDATE cameras SET name = '0o17' WHERE id = 'cam-001'");
    fs.writeFileSync(yaml, render('0o17'));
    const report = await provider().compare();
    expect(report.differences).toEqual(expected);
  });

  test('a difference gone by the second read (a write in progress) is not reported', async () => {
    sql("UPDATE cameras SET name = 'mid-write' WHERE id = 'cam-004'");
    const p = provider(400);
    const report = p.compare();
    // The "write" completes during the pause before the confirming read.
    setTimeout(() => sql("UPDATE cameras SET name = 'Server room' WHERE id = 'cam-004'"), 100);
    expect(await report).toEqual({ ok: true, checked: 5, differences: [] });
  });

  test('the database is opened read-only: the check never writes', async () => {
    const before = fs.statSync(db).mtimeMs;
    await provider().compare();
    expect(fs.statSync(db).mtimeMs).toBe(before);
    expect(fs.existsSync(`${db}-journal`)).toBe(false);
  });

  test('lookup returns one record from each store', async () => {
    sql("UPDATE cameras SET name = 'Z' WHERE id = 'cam-001'");
    const pair = await provider().lookup!('cam-001');
    expect(pair.db).toMatchObject({ id: 'cam-001', name: 'Z', tags: ['indoor', 'entrance'], enabled: 1 });
    expect(pair.yaml).toMatchObject({ id: 'cam-001', name: 'Lobby entrance', enabled: true });
    expect(await provider().lookup!('nope')).toEqual({ db: undefined, yaml: undefined });
  });

  test.each<[string, () => void, RegExp]>([
    ['a missing database', () => fs.rmSync(db), /database .*cameras\.db: cannot open/],
    [
      'a database without the table',
      () => sql('DROP TABLE cameras'),
      /no table cameras \(tables: alert_rules, alert_history\)/,
    ],
    ['a missing yaml file', () => fs.rmSync(yaml), /yaml .*cameras\.yaml: cannot read: ENOENT/],
    [
      'yaml that is not YAML',
      () => fs.writeFileSync(yaml, 'cameras: [\n  - id: "x'),
      /yaml .*cameras\.yaml: not valid YAML/,
    ],
    [
      'yaml of another shape',
      () => fs.writeFileSync(yaml, 'cameras: {a: 1}\n'),
      /yaml .*cameras\.yaml: unexpected content: cameras: /,
    ],
  ])('%s is an error naming the file', async (_name, breakIt, pattern) => {
    breakIt();
    expect((await rejectionOf(provider().compare())).message).toMatch(pattern);
  });

  test('an empty yaml file against cameras in the database: all missing in yaml', async () => {
    fs.writeFileSync(yaml, '');
    const report = await provider().compare();
    expect(report.differences).toHaveLength(5);
    expect(report.differences[0]).toBe('camera cam-001: missing in yaml (present in database)');
  });
});

describe('sqlite-yaml consistency provider against a backend process under write load', () => {
  let dir: string;
  let child: Child;
  let url: string;

  beforeAll(async () => {
    dir = tempDir('consistency-load');
    const port = await freePort();
    child = startBackendProcess(port, dir, { ROLLOUT_PERCENT: '50' });
    await child.waitFor(/camera-api listening on/, 90_000);
    url = `http://127.0.0.1:${port}`;
  }, 120_000);
  afterAll(async () => {
    await child?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes landing during every check, on the same two cameras, are never reported', async () => {
    // Several writers keep two cameras changing while the checker reads, so reads straddle writes
    // and the confirming read finds the same cameras mid-write again. A healthy target must still
    // read as consistent: a false dataConsistency rollback is the 3 a.m. page we must not send.
    let running = true;
    let writes = 0;
    const writer = async (n: number) => {
      for (let i = 0; running; i += 1) {
        const id = (n + i) % 2 === 0 ? 'cam-001' : 'cam-002';
        const res = await fetch(`${url}/api/v1/cameras/${id}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name: `busy ${n}.${i}` }),
        });
        expect(res.status).toBe(200);
        writes += 1;
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    const provider = createConsistencyProvider(
      { type: 'sqlite-yaml', database: path.join(dir, DB_FILE), yaml: path.join(dir, YAML_FILE) },
      // Short, so reads straddle writes often; not shorter than a busy machine may pause the
      // backend between its YAML rename and its COMMIT (5 ms was, with other suites running).
      { recheckDelayMs: 100 },
    );
    const reports = [];
    try {
      for (let i = 0; i < 150; i += 1) reports.push(await provider.compare());
    } finally {
      running = false;
      await Promise.all(writers);
    }
    expect(writes).toBeGreaterThan(200);
    expect(reports.flatMap((r) => r.differences)).toEqual([]);
    expect(reports.every((r) => r.ok)).toBe(true);
    // Cameras changing while they are read are left out of that check; the quiet ones never are.
    expect(Math.min(...reports.map((r) => r.checked))).toBeGreaterThanOrEqual(3);
  });
});
