import { spawn } from 'node:child_process';
import path from 'node:path';
import { parseTrafficArgs, startTraffic } from '../../example-backend/traffic';
import { camerasInDb, camerasInYaml, startTestBackend, type TestBackend } from './helpers';

describe('traffic generator', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT_READ: '50', ROLLOUT_PERCENT_WRITE: '50' } });
  });
  afterEach(async () => {
    await backend.dispose();
  });

  it('sends the asked rate of mixed keyed traffic, stops at the duration, and deletes its cameras', async () => {
    const seeded = camerasInDb(backend.dbPath);
    const run = startTraffic({
      target: backend.url,
      rps: 80,
      writeRatio: 0.4,
      durationMs: 2000,
      maxCameras: 5,
    });
    // Midway: a camera of its own shows up while it runs (polled, not one fixed moment: on a busy
    // machine the first writes land later than 1.2 s in).
    const synthetic = () => camerasInDb(backend.dbPath).filter((c) => c.tags.includes('synthetic'));
    const until = Date.now() + 1800;
    await new Promise((r) => setTimeout(r, 600));
    while (synthetic().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const midway = camerasInDb(backend.dbPath);
    expect(midway.filter((c) => c.tags.includes('synthetic')).length).toBeGreaterThan(0);
    expect(midway.filter((c) => c.tags.includes('synthetic')).length).toBeLessThanOrEqual(5);
    expect(run.stats().running).toBe(true);

    await run.done;
    const stats = run.stats();
    expect(stats.running).toBe(false);
    expect(stats.sent).toBeGreaterThanOrEqual(130);
    expect(stats.sent).toBeLessThanOrEqual(190);
    expect(stats.completed).toBe(stats.sent);
    expect(stats.failed).toBe(0);
    expect(stats.writes).toBeGreaterThan(20);
    expect(stats.reads + stats.writes).toBe(stats.sent);
    expect(stats.byImpl.domain).toBeGreaterThan(0);
    expect(stats.byImpl.legacy).toBeGreaterThan(0);
    expect(Object.keys(stats.byStatus).sort()).toEqual(expect.arrayContaining(['200', '201']));
    expect(Object.keys(stats.byStatus).every((s) => ['200', '201', '204'].includes(s))).toBe(true);
    expect(stats.ownedCameras).toBe(0);

    expect(camerasInDb(backend.dbPath)).toEqual(seeded);
    expect(camerasInYaml(backend.yamlPath)).toEqual(seeded);
    const metrics = (await backend.request('GET', '/metrics')).text;
    expect(metrics).toMatch(
      /http_requests_total\{route="\/api\/v1\/cameras",method="POST",impl="(legacy|domain)",status="201"\}/,
    );
  });

  it('stops early on stop(), idempotently', async () => {
    const run = startTraffic({ target: backend.url, rps: 50, writeRatio: 1 });
    await new Promise((r) => setTimeout(r, 400));
    await Promise.all([run.stop(), run.stop()]);
    await run.done;
    const sent = run.stats().sent;
    expect(sent).toBeGreaterThan(5);
    await new Promise((r) => setTimeout(r, 200));
    expect(run.stats().sent).toBe(sent);
    expect(camerasInDb(backend.dbPath).some((c) => c.tags.includes('synthetic'))).toBe(false);
  });

  it('refuses non-loopback targets and bad rates', () => {
    expect(() => startTraffic({ target: 'http://example.com', rps: 1 })).toThrow(/loopback/);
    expect(() => startTraffic({ target: 'not a url', rps: 1 })).toThrow(/target/);
    expect(() => startTraffic({ target: backend.url, rps: 0 })).toThrow(/rps/);
    expect(() => startTraffic({ target: backend.url, rps: 1, writeRatio: 2 })).toThrow(/writeRatio/);
  });

  it('parses its command line', () => {
    expect(
      parseTrafficArgs([
        '--target',
        'http://127.0.0.1:8000',
        '--rps',
        '20',
        '--duration=90s',
        '--write-ratio',
        '0.2',
      ]),
    ).toEqual({
      target: 'http://127.0.0.1:8000',
      rps: 20,
      durationMs: 90_000,
      writeRatio: 0.2,
      users: undefined,
      maxCameras: undefined,
      allowRemote: false,
    });
    expect(parseTrafficArgs(['--target=http://localhost:1', '--duration', '2m']).durationMs).toBe(120_000);
    expect(() => parseTrafficArgs(['--rps', '5'])).toThrow(/--target/);
    expect(() => parseTrafficArgs(['--target', 'x', '--rps', 'fast'])).toThrow(/--rps/);
    expect(() => parseTrafficArgs(['--target', 'x', '--duration', 'soon'])).toThrow(/--duration/);
    expect(() => parseTrafficArgs(['--target', 'x', '--write-ratio', '1.5'])).toThrow(/--write-ratio/);
    expect(() => parseTrafficArgs(['--target', 'x', '--burst'])).toThrow(/--burst/);
  });

  it('npm run traffic runs for --duration and cleans up', async () => {
    const root = path.resolve(__dirname, '../..');
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules/.bin/ts-node'),
        '--transpile-only',
        'example-backend/traffic.ts',
        '--target',
        backend.url,
        '--rps',
        '30',
        '--duration',
        '1s',
        '--write-ratio',
        '0.5',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, out }).toMatchObject({ code: 0 });
    expect(out).toMatch(/traffic: done .*sent=\d+/);
    expect(camerasInDb(backend.dbPath).some((c) => c.tags.includes('synthetic'))).toBe(false);
  });
});
