import fs from 'node:fs';
import {
  camerasInDb,
  camerasInYaml,
  inBatches,
  snapshot,
  startTestBackend,
  type TestBackend,
} from './helpers';

const IMPLS = ['legacy', 'domain'] as const;

describe('example backend stores (SQLite + cameras.yaml)', () => {
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startTestBackend();
  });
  afterEach(async () => {
    await backend.dispose();
  });

  const as = (
    impl: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => backend.request(method, path, { body, headers: { 'X-Rollout-Force': impl, ...headers } });

  const expectInSync = () => {
    const db = camerasInDb(backend.dbPath);
    expect(camerasInYaml(backend.yamlPath)).toEqual(db);
    return db;
  };

  it('seeds both stores on first start, sorted by id, and does not reseed on restart', async () => {
    const seeded = expectInSync();
    expect(seeded.length).toBeGreaterThanOrEqual(5);
    expect(seeded.map((c) => c.id)).toEqual(seeded.map((c) => c.id).sort());

    await as('legacy', 'DELETE', '/api/v1/cameras/cam-001');
    await backend.close();
    const again = await startTestBackend({ dataDir: backend.dataDir });
    try {
      const ids = camerasInDb(again.dbPath).map((c) => c.id);
      expect(ids).not.toContain('cam-001');
      expect(ids).toHaveLength(seeded.length - 1);
      expect((await again.request('GET', '/api/v1/alerts/rules')).body.total).toBeGreaterThan(0);
    } finally {
      await again.close();
    }
  });

  it.each(IMPLS)('%s: create, update and delete keep the database and the YAML identical', async (impl) => {
    await as(impl, 'POST', '/api/v1/cameras', {
      id: 'zz-1',
      name: 'Z',
      rtsp_url: 'rtsp://z/1',
      tags: ['on', 'yes'],
    });
    await as(impl, 'POST', '/api/v1/cameras', {
      id: 'aa-1',
      name: 'A',
      rtsp_url: 'rtsp://a/1',
      location: '2024-01-01',
    });
    let db = expectInSync();
    expect(db.map((c) => c.id)).toEqual(expect.arrayContaining(['aa-1', 'zz-1']));
    expect(db.find((c) => c.id === 'zz-1')!.tags).toEqual(['on', 'yes']);
    expect(db.find((c) => c.id === 'aa-1')!.location).toBe('2024-01-01');
    expect(camerasInYaml(backend.yamlPath)).toEqual(
      [...camerasInYaml(backend.yamlPath)].sort((a, b) => a.id.localeCompare(b.id)),
    );

    await as(impl, 'PUT', '/api/v1/cameras/zz-1', { name: 'Z2', enabled: false });
    db = expectInSync();
    expect(db.find((c) => c.id === 'zz-1')).toMatchObject({ name: 'Z2', enabled: false });

    await as(impl, 'DELETE', '/api/v1/cameras/zz-1');
    db = expectInSync();
    expect(db.find((c) => c.id === 'zz-1')).toBeUndefined();
  });

  it('keeps both stores identical under concurrent writes from both implementations', async () => {
    await inBatches(60, 20, async (i) => {
      const impl = IMPLS[i % 2];
      const id = `cc-${i % 15}`;
      const op = Math.floor(i / 15);
      if (op === 0 || op === 2)
        return as(impl, 'POST', '/api/v1/cameras', { id, name: id, rtsp_url: 'rtsp://c/1' });
      if (op === 1) return as(impl, 'PUT', `/api/v1/cameras/${id}`, { name: `${id}-v2` });
      return as(impl, 'DELETE', `/api/v1/cameras/${id}`);
    });
    expectInSync();
    const leftovers = fs.readdirSync(backend.dataDir).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toEqual([]);
  });

  describe.each(IMPLS)('%s: injected failures', (impl) => {
    it.each(['yaml', 'db'])(
      'a %s failure answers 500 and leaves both stores exactly as before',
      async (store) => {
        const before = snapshot(backend);
        const attempts = [
          as(
            impl,
            'POST',
            '/api/v1/cameras',
            { id: 'inj-1', name: 'I', rtsp_url: 'rtsp://i/1' },
            { 'X-Rollout-Inject-Failure': store },
          ),
          as(
            impl,
            'PUT',
            '/api/v1/cameras/cam-002',
            { name: 'changed' },
            { 'X-Rollout-Inject-Failure': store },
          ),
          as(impl, 'DELETE', '/api/v1/cameras/cam-003', undefined, { 'X-Rollout-Inject-Failure': store }),
        ];
        for (const reply of await Promise.all(attempts)) {
          expect(reply.status).toBe(500);
          expect(reply.body.error).toMatch(new RegExp(store));
          expect(reply.servedBy).toBe(impl);
        }
        expect(snapshot(backend)).toEqual(before);

        // The store still works afterwards (no transaction left open).
        const ok = await as(impl, 'PUT', '/api/v1/cameras/cam-002', { name: 'changed' });
        expect(ok.status).toBe(200);
        expect(expectInSync()).not.toEqual(before.db);
      },
    );
  });

  it('honours X-Rollout-Inject-Failure only on forced requests and only with a known store', async () => {
    const before = snapshot(backend);
    const unforced = await backend.request('DELETE', '/api/v1/cameras/cam-001', {
      headers: { 'X-Rollout-Inject-Failure': 'yaml' },
    });
    expect(unforced.status).toBe(400);
    expect(unforced.body.field).toBe('X-Rollout-Inject-Failure');
    const unknown = await as('domain', 'DELETE', '/api/v1/cameras/cam-001', undefined, {
      'X-Rollout-Inject-Failure': 'disk',
    });
    expect(unknown.status).toBe(400);
    expect(snapshot(backend)).toEqual(before);
  });

  it.each(IMPLS)('%s: the yamlDesync fault updates the database but not the YAML', async (impl) => {
    const other = impl === 'legacy' ? 'domain' : 'legacy';
    expect((await backend.admin('PUT', '/admin/faults', { [impl]: { yamlDesync: true } })).status).toBe(200);
    const yamlBefore = fs.readFileSync(backend.yamlPath, 'utf8');

    expect(
      (await as(impl, 'POST', '/api/v1/cameras', { id: 'ds-1', name: 'D', rtsp_url: 'rtsp://d/1' })).status,
    ).toBe(201);
    expect(fs.readFileSync(backend.yamlPath, 'utf8')).toBe(yamlBefore);
    const db = camerasInDb(backend.dbPath);
    expect(db.map((c) => c.id)).toContain('ds-1');
    expect(camerasInYaml(backend.yamlPath)).not.toEqual(db);

    // The other implementation is unaffected, and its next write brings the YAML back in line.
    expect((await as(other, 'PUT', '/api/v1/cameras/cam-001', { name: 'resync' })).status).toBe(200);
    expectInSync();

    await backend.admin('DELETE', '/admin/faults');
    expect((await as(impl, 'DELETE', '/api/v1/cameras/ds-1')).status).toBe(204);
    expectInSync();
  });
});
