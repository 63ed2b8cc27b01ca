import fs from 'node:fs';
import YAML from 'yaml';
import { createConsistencyProvider } from '../../src/providers/consistency';
import { sameValue } from '../../src/providers/consistency/values';
import { camerasInDb, startTestBackend, type TestBackend } from './helpers';

/**
 * Strings a YAML reader would take for something else (numbers in YAML 1.2 or 1.1, booleans,
 * nulls, syntax): stored by a user, they must come back as the same strings from both
 * implementations and from both stores, and the consistency check must see no difference.
 */
const TRICKY = [
  '0o17',
  '0o777',
  'yes',
  'no',
  'on',
  'off',
  'true',
  '~',
  'null',
  'NULL',
  '1e3',
  '0x1F',
  '017',
  '1_000',
  '.inf',
  '-.nan',
  '12:30:00',
  '2024-01-01',
  '"',
  "'",
  'a\nb',
  'crlf\r\nline',
  'key: value',
  '# not a comment',
  ' leading space',
  'trailing space ',
  '  ',
  '中文名称',
  'emoji 📷🚨',
  '\u2028 line separator',
  'tab\there',
  'back\\slash',
  'nul \u0000 byte',
  '---',
  '...',
  '[a, b]',
  '{a: 1}',
  '*alias',
  '&anchor',
  '!tag',
  '%YAML 1.1',
  '@at',
  '`tick',
  '| block',
  '> folded',
  '? key',
  '- item',
  '<<',
  '=',
];

/** Ids allowed by the API that a YAML reader could still read as a number or boolean. */
const TRICKY_IDS = ['0o17', '0o777', '1e3', '0x1F', '017', 'yes', 'no', 'null', 'on', '1.0', '007', '1_000'];

const expectSameCameras = (a: unknown, b: unknown) => expect(a).toEqual(b);

describe('cameras.yaml round-trips any string', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT: '50' } });
  });
  afterAll(async () => {
    await backend.dispose();
  });

  const force = (impl: string) => ({ 'X-Rollout-Force': impl });

  it('stores tricky strings in every text field and tricky ids, through both implementations', async () => {
    const created: Array<Record<string, unknown>> = [];
    for (const [i, value] of TRICKY.entries()) {
      const impl = i % 2 ? 'domain' : 'legacy';
      const body = {
        id: `t-${i}`,
        // Names are trimmed and must not be blank: the value is wrapped so it survives as is.
        name: `<${value}>`,
        location: value,
        rtsp_url: `rtsp://cam.example/${encodeURIComponent(value)}`,
        tags: [value.trim() === '' ? 'blank' : value, 'x'],
      };
      const reply = await backend.request('POST', '/api/v1/cameras', { body, headers: force(impl) });
      expect([value, reply.status]).toEqual([value, 201]);
      expect(reply.body).toMatchObject(body);
      created.push(reply.body);
    }
    for (const [i, id] of TRICKY_IDS.entries()) {
      const body = { id, name: id, location: id, rtsp_url: `rtsp://${id}`, tags: [id] };
      const reply = await backend.request('POST', '/api/v1/cameras', {
        body,
        headers: force(i % 2 ? 'domain' : 'legacy'),
      });
      expect([id, reply.status]).toEqual([id, 201]);
      created.push(reply.body);
    }
    // Updates write the file again, through the other implementation.
    for (const [i, value] of TRICKY.slice(0, 10).entries()) {
      const reply = await backend.request('PUT', `/api/v1/cameras/t-${i}`, {
        body: { location: `${value} again`, tags: [value] },
        headers: force(i % 2 ? 'legacy' : 'domain'),
      });
      expect([value, reply.status]).toEqual([value, 200]);
      const at = created.findIndex((c) => c.id === `t-${i}`);
      created[at] = reply.body;
    }

    const byId = (list: Array<{ id: string }>) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1));
    const legacy = await backend.request('GET', '/api/v1/cameras', { headers: force('legacy') });
    const domain = await backend.request('GET', '/api/v1/cameras', { headers: force('domain') });
    expect([legacy.status, domain.status]).toEqual([200, 200]);
    expectSameCameras(byId(legacy.body.items), byId(domain.body.items));
    expectSameCameras(byId(camerasInDb(backend.dbPath)), byId(domain.body.items));
    for (const camera of created) expect(legacy.body.items).toContainEqual(camera);
    expect(legacy.body.total).toBe(5 + TRICKY.length + TRICKY_IDS.length);

    for (const impl of ['legacy', 'domain']) {
      const info = await backend.request('GET', '/api/v1/system/info', { headers: force(impl) });
      expect([impl, info.status, info.body.cameras]).toEqual([impl, 200, legacy.body.total]);
    }

    const provider = createConsistencyProvider(
      { type: 'sqlite-yaml', database: backend.dbPath, yaml: backend.yamlPath },
      { recheckDelayMs: 20 },
    );
    expect(await provider.compare()).toEqual({ ok: true, checked: legacy.body.total, differences: [] });
    for (const camera of created) {
      const pair = await provider.lookup!(String(camera.id));
      for (const [field, value] of Object.entries(camera)) {
        expect([camera.id, field, sameValue(pair.db?.[field], value)]).toEqual([camera.id, field, true]);
        expect([camera.id, field, sameValue(pair.yaml?.[field], value)]).toEqual([camera.id, field, true]);
      }
    }
  });

  it('writes a file every YAML reader reads the same: 1.2 (as declared) and 1.1 alike', () => {
    const text = fs.readFileSync(backend.yamlPath, 'utf8');
    expect(text.startsWith('%YAML 1.2\n---\n')).toBe(true);
    const asDeclared = YAML.parse(text);
    // A 1.1 reader (PyYAML, old tools) ignoring the directive must still see strings, not 15 or true.
    const as11 = YAML.parse(text.replace(/^%YAML 1\.2\n/, ''), { version: '1.1' });
    expect(as11).toEqual(asDeclared);
    const values = (asDeclared.cameras as Array<Record<string, unknown>>).flatMap((c) => [
      c.id,
      c.name,
      c.location,
      c.rtsp_url,
      ...(c.tags as unknown[]),
    ]);
    expect(values.filter((v) => typeof v !== 'string')).toEqual([]);
  });
});
