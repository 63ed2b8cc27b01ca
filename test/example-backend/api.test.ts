import {
  AlertHistory,
  AlertRules,
  Camera,
  CameraList,
  ErrorBody,
  SystemInfo,
} from '../../example-backend/schemas';
import { startTestBackend, type Reply, type TestBackend } from './helpers';

const IMPLS = ['legacy', 'domain'] as const;

describe('example backend API', () => {
  let backend: TestBackend;
  const replies: Reply[] = [];

  beforeAll(async () => {
    backend = await startTestBackend();
    const request = backend.request;
    backend.request = async (...args) => {
      const reply = await request(...args);
      replies.push(reply);
      return reply;
    };
  });
  afterAll(async () => {
    await backend.dispose();
  });

  const as = (impl: string, method: string, path: string, body?: unknown) =>
    backend.request(method, path, { body, headers: { 'X-Rollout-Force': impl } });

  it.each(IMPLS)('%s: read endpoints answer the documented shapes', async (impl) => {
    const info = await as(impl, 'GET', '/api/v1/system/info');
    expect(info.status).toBe(200);
    const parsedInfo = SystemInfo.parse(info.body);
    expect(parsedInfo.cameras).toBeGreaterThanOrEqual(5);
    expect(parsedInfo.service).toBe('camera-api');

    const history = await as(impl, 'GET', '/api/v1/alerts/history-db?limit=7');
    expect(history.status).toBe(200);
    const parsedHistory = AlertHistory.parse(history.body);
    expect(parsedHistory.items).toHaveLength(7);
    expect(parsedHistory.total).toBeGreaterThan(7);
    const times = parsedHistory.items.map((a) => a.created_at);
    expect([...times].sort().reverse()).toEqual(times);

    const defaultLimit = AlertHistory.parse((await as(impl, 'GET', '/api/v1/alerts/history-db')).body);
    expect(defaultLimit.items).toHaveLength(50);

    const rules = await as(impl, 'GET', '/api/v1/alerts/rules');
    expect(rules.status).toBe(200);
    expect(AlertRules.parse(rules.body).total).toBe(rules.body.items.length);

    const cameras = await as(impl, 'GET', '/api/v1/cameras');
    expect(cameras.status).toBe(200);
    const list = CameraList.parse(cameras.body);
    expect(list.total).toBe(list.items.length);
    expect(list.items.map((c) => c.id)).toEqual(expect.arrayContaining(['cam-001', 'cam-005']));
  });

  it('legacy and domain return the same data for the same state', async () => {
    for (const path of ['/api/v1/alerts/history-db?limit=20', '/api/v1/alerts/rules', '/api/v1/cameras']) {
      const [legacy, domain] = await Promise.all(IMPLS.map((impl) => as(impl, 'GET', path)));
      expect(domain.body).toEqual(legacy.body);
    }
    const [legacy, domain] = await Promise.all(IMPLS.map((impl) => as(impl, 'GET', '/api/v1/system/info')));
    expect({ ...domain.body, uptime_seconds: 0 }).toEqual({ ...legacy.body, uptime_seconds: 0 });
  });

  it.each(IMPLS)('%s: create, update and delete a camera', async (impl) => {
    const id = `shape-${impl}`;
    const created = await as(impl, 'POST', '/api/v1/cameras', {
      id,
      name: 'Gate',
      rtsp_url: 'rtsp://10.1.1.1/s',
    });
    expect(created.status).toBe(201);
    const camera = Camera.parse(created.body);
    expect(camera).toMatchObject({ id, name: 'Gate', location: '', enabled: true, tags: [] });
    expect(camera.created_at).toBe(camera.updated_at);

    const duplicate = await as(impl, 'POST', '/api/v1/cameras', {
      id,
      name: 'Gate 2',
      rtsp_url: 'rtsp://10.1.1.2/s',
    });
    expect(duplicate.status).toBe(409);
    expect(ErrorBody.parse(duplicate.body).field).toBe('id');

    await new Promise((r) => setTimeout(r, 5));
    const updated = await as(impl, 'PUT', `/api/v1/cameras/${id}`, { enabled: false, tags: ['gate'] });
    expect(updated.status).toBe(200);
    expect(Camera.parse(updated.body)).toMatchObject({ id, name: 'Gate', enabled: false, tags: ['gate'] });
    expect(updated.body.created_at).toBe(camera.created_at);
    expect(updated.body.updated_at > camera.updated_at).toBe(true);

    const other = impl === 'legacy' ? 'domain' : 'legacy';
    const seen = await as(other, 'GET', '/api/v1/cameras');
    expect(seen.body.items.find((c: { id: string }) => c.id === id)).toEqual(updated.body);

    const deleted = await as(impl, 'DELETE', `/api/v1/cameras/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    for (const [method, body] of [
      ['DELETE', undefined],
      ['PUT', { name: 'x' }],
    ] as const) {
      const missing = await as(impl, method, `/api/v1/cameras/${id}`, body);
      expect(missing.status).toBe(404);
      expect(ErrorBody.parse(missing.body).error).toMatch(/not found/);
    }
  });

  it.each(IMPLS)('%s: generates an id when none is given', async (impl) => {
    const created = await as(impl, 'POST', '/api/v1/cameras', {
      name: 'No id',
      rtsp_url: 'rtsps://10.1.1.9/s',
      location: 'Hall',
      enabled: false,
      tags: ['a', 'b'],
    });
    expect(created.status).toBe(201);
    expect(Camera.parse(created.body)).toMatchObject({
      name: 'No id',
      location: 'Hall',
      enabled: false,
      tags: ['a', 'b'],
    });
    expect(created.body.id).toMatch(/^cam-[0-9a-f]{8}$/);
    expect((await as(impl, 'DELETE', `/api/v1/cameras/${created.body.id}`)).status).toBe(204);
  });

  it.each(IMPLS)('%s: rejects invalid bodies and queries with 400 naming the field', async (impl) => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/api/v1/cameras', { rtsp_url: 'rtsp://a/b' }, 'name'],
      ['POST', '/api/v1/cameras', { name: '  ', rtsp_url: 'rtsp://a/b' }, 'name'],
      ['POST', '/api/v1/cameras', { name: 'x' }, 'rtsp_url'],
      ['POST', '/api/v1/cameras', { name: 'x', rtsp_url: 'http://a/b' }, 'rtsp_url'],
      ['POST', '/api/v1/cameras', { name: 'x', rtsp_url: 'rtsp://a/b', enabled: 'yes' }, 'enabled'],
      ['POST', '/api/v1/cameras', { name: 'x', rtsp_url: 'rtsp://a/b', tags: 'a' }, 'tags'],
      ['POST', '/api/v1/cameras', { name: 'x', rtsp_url: 'rtsp://a/b', tags: ['ok', 3] }, 'tags.1'],
      ['POST', '/api/v1/cameras', { id: 'bad id!', name: 'x', rtsp_url: 'rtsp://a/b' }, 'id'],
      ['POST', '/api/v1/cameras', { name: 'x', rtsp_url: 'rtsp://a/b', rtspUrl: 'x' }, 'rtspUrl'],
      ['POST', '/api/v1/cameras', '[1]', 'body'],
      ['POST', '/api/v1/cameras', '{"name":', 'body'],
      ['PUT', '/api/v1/cameras/cam-001', {}, 'body'],
      ['PUT', '/api/v1/cameras/cam-001', { id: 'cam-x' }, 'id'],
      ['PUT', '/api/v1/cameras/cam-001', { location: 7 }, 'location'],
      ['GET', '/api/v1/alerts/history-db?limit=0', undefined, 'limit'],
      ['GET', '/api/v1/alerts/history-db?limit=abc', undefined, 'limit'],
      ['GET', '/api/v1/alerts/history-db?limit=5000', undefined, 'limit'],
    ];
    for (const [method, path, body, field] of cases) {
      const reply = await as(impl, method, path, body);
      expect({ method, path, body, status: reply.status, field: reply.body?.field }).toEqual({
        method,
        path,
        body,
        status: 400,
        field,
      });
      expect(ErrorBody.parse(reply.body).error).toContain(field);
      expect(reply.servedBy).toBe(impl);
    }
    const unchanged = await as(impl, 'GET', '/api/v1/cameras');
    expect(unchanged.body.items.find((c: { id: string }) => c.id === 'cam-001').name).toBe('Lobby entrance');
  });

  it('answers healthz unmetered and unknown routes with 404 error bodies', async () => {
    const health = await backend.request('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true });
    const unknown = await backend.request('GET', '/api/v1/nothing');
    expect(unknown.status).toBe(404);
    expect(ErrorBody.parse(unknown.body).error).toMatch(/no route/);
    const metrics = await backend.request('GET', '/metrics');
    expect(metrics.text).not.toContain('healthz');
  });

  it('put X-Served-By: legacy|domain on every API response, errors included', () => {
    const api = replies.filter((r) => r.path.startsWith('/api/'));
    expect(api.length).toBeGreaterThan(60);
    expect(new Set(api.map((r) => r.status))).toEqual(new Set([200, 201, 204, 400, 404, 409]));
    for (const reply of api)
      expect(`${reply.method} ${reply.path} -> ${reply.servedBy}`).toMatch(/-> (legacy|domain)$/);
  });
});
