import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { createConsistencyProvider } from '../../src/providers/consistency';
import { snapshot, startTestBackend, TOKEN, type TestBackend } from './helpers';

/**
 * Malformed requests against the real backend: each must be a 4xx with a JSON `{error}` naming
 * what is wrong, never a 5xx and never a 200 that silently did nothing; afterwards the switches,
 * the faults and both stores are exactly as before, and the stores still agree.
 */

interface Case {
  name: string;
  method: string;
  /** Sent as is, percent-escapes included. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Adds the admin bearer token. */
  admin?: boolean;
  /** Bytes written to a bare TCP socket instead of an HTTP client request. */
  raw?: string;
  status: number;
  error: RegExp;
}

interface Answer {
  status: number;
  contentType: string;
  servedBy?: string;
  text: string;
}

const JSON_TYPE = { 'Content-Type': 'application/json' };
const json = (value: unknown) => JSON.stringify(value);
const camera = { name: 'hostile', rtsp_url: 'rtsp://10.0.0.1/stream' };
const rollout = (groups: unknown) => json({ groups });
const PERCENT = /groups\.read\.percent: must be a whole number 0\.\.100/;
const BAD_PATH = /^path: malformed percent-escape/;
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const CASES: Case[] = [
  // Paths that do not decode.
  {
    name: 'broken escape in a camera id',
    method: 'PUT',
    path: '/api/v1/cameras/%E0%A4%A',
    headers: JSON_TYPE,
    body: json({ name: 'x' }),
    status: 400,
    error: BAD_PATH,
  },
  { name: 'lone % in an API path', method: 'GET', path: '/api/v1/%', status: 400, error: BAD_PATH },
  {
    name: 'overlong UTF-8 escape',
    method: 'DELETE',
    path: '/api/v1/cameras/%C0%AF',
    status: 400,
    error: BAD_PATH,
  },
  {
    name: 'broken escape in an admin path',
    method: 'GET',
    path: '/admin/rollout%FF',
    admin: true,
    status: 400,
    error: BAD_PATH,
  },
  // Content encodings.
  {
    name: 'gzip declared, plain body',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
    body: rollout({ read: { percent: 5 } }),
    status: 400,
    error: /^Content-Encoding: body is not valid gzip data/,
  },
  {
    name: 'deflate declared, garbage body',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: { ...JSON_TYPE, 'Content-Encoding': 'deflate' },
    body: Buffer.from([1, 2, 3, 4, 5]),
    status: 400,
    error: /^Content-Encoding: body is not valid deflate data/,
  },
  {
    name: 'truncated gzip',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
    body: zlib.gzipSync(rollout({ read: { percent: 5 } })).subarray(0, 15),
    status: 400,
    error: /^Content-Encoding: body is not valid gzip data/,
  },
  {
    name: 'brotli is not supported',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { ...JSON_TYPE, 'Content-Encoding': 'br' },
    body: zlib.brotliCompressSync(rollout({ read: { percent: 5 } })),
    status: 415,
    error: /^Content-Encoding: unsupported "br" \(use gzip, deflate or identity\)/,
  },
  {
    name: 'unknown encoding on a write',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: { ...JSON_TYPE, 'Content-Encoding': 'compress' },
    body: json(camera),
    status: 415,
    error: /^Content-Encoding: unsupported "compress"/,
  },
  // Content types.
  {
    name: 'JSON sent as text/plain',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { 'Content-Type': 'text/plain' },
    body: rollout({ read: { percent: 5 } }),
    status: 415,
    error: /^Content-Type: must be application\/json \(got "text\/plain"\)/,
  },
  {
    name: 'JSON without a content type',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    raw: 'body-without-type',
    status: 415,
    error: /^Content-Type: must be application\/json \(got none\)/,
  },
  {
    name: 'camera as text/plain',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: { 'Content-Type': 'text/plain' },
    body: json(camera),
    status: 415,
    error: /^Content-Type: must be application\/json \(got "text\/plain"\)/,
  },
  {
    name: 'update as a form',
    method: 'PUT',
    path: '/api/v1/cameras/cam-001',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'name=x',
    status: 415,
    error: /^Content-Type: must be application\/json/,
  },
  {
    name: 'faults as multipart',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: { 'Content-Type': 'multipart/form-data; boundary=x' },
    body: '--x--',
    status: 415,
    error: /^Content-Type: must be application\/json/,
  },
  {
    name: 'a charset JSON does not allow',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { 'Content-Type': 'application/json; charset=latin1' },
    body: rollout({ read: { percent: 5 } }),
    status: 415,
    error: /^Content-Type: unsupported charset "LATIN1"/,
  },
  // Bodies that are missing, not JSON, or not an object.
  {
    name: 'no body at all',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    raw: 'no-body',
    status: 400,
    error: /^body: is required/,
  },
  {
    name: 'an empty JSON body',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: { ...JSON_TYPE, 'Content-Length': '0' },
    body: '',
    status: 400,
    error: /^body: is required/,
  },
  {
    name: 'truncated JSON',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{"groups":',
    status: 400,
    error: /^body: not valid JSON/,
  },
  {
    name: 'JSON with a trailing comma',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: '{"name":"x",}',
    status: 400,
    error: /^body: not valid JSON/,
  },
  {
    name: 'an array',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '[1,2]',
    status: 400,
    error: /^body: must be a JSON object/,
  },
  {
    name: 'null',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: 'null',
    status: 400,
    error: /^body: must be a JSON object/,
  },
  {
    name: 'a string',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '"percent"',
    status: 400,
    error: /^body: must be a JSON object/,
  },
  {
    name: 'a number as a camera',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: '42',
    status: 400,
    error: /^body: must be a JSON object/,
  },
  {
    name: 'an empty rollout patch',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{}',
    status: 400,
    error: /^body: must change useDomainService or groups/,
  },
  {
    name: 'an empty groups object',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({}),
    status: 400,
    error: /^groups: must name at least one group \(read or write\)/,
  },
  {
    name: 'an oversized admin body',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: json({ useDomainService: true, pad: 'x'.repeat(20_000) }),
    status: 413,
    error: /^body: too large \(limit 16384 bytes\)/,
  },
  {
    name: 'an oversized camera',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: json({ ...camera, location: 'x'.repeat(200_000) }),
    status: 413,
    error: /^body: too large \(limit 102400 bytes\)/,
  },
  {
    name: 'a deeply nested name',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: `{"rtsp_url":"rtsp://x","name":${nested(5000)}}`,
    status: 400,
    error: /^name: must be a string/,
  },
  // Reserved and unknown names.
  {
    name: '__proto__ as a group',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{"groups":{"__proto__":{"percent":5}}}',
    status: 400,
    error: /^groups\.__proto__: reserved name, not a group \(expected read or write\)/,
  },
  {
    name: 'constructor as a group',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ constructor: { percent: 5 } }),
    status: 400,
    error: /^groups\.constructor: reserved name, not a group/,
  },
  {
    name: 'prototype as a group',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ prototype: { percent: 5 } }),
    status: 400,
    error: /^groups\.prototype: reserved name, not a group/,
  },
  {
    name: 'an unknown group',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ canary: { percent: 5 } }),
    status: 400,
    error: /^groups\.canary: unknown group \(expected read or write\)/,
  },
  {
    name: '__proto__ at the top of a rollout patch',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{"__proto__":{"useDomainService":false}}',
    status: 400,
    error: /^__proto__: unknown field/,
  },
  {
    name: '__proto__ in a fault patch',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: '{"__proto__":{"errorRate":1}}',
    status: 400,
    error: /^__proto__: unknown field/,
  },
  {
    name: '__proto__ in a camera',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: '{"name":"x","rtsp_url":"rtsp://x","__proto__":{"enabled":false}}',
    status: 400,
    error: /^__proto__: unknown field/,
  },
  {
    name: 'an unknown key in a group',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ read: { percent: 5, pct: 1 } }),
    status: 400,
    error: /^groups\.read\.pct: unknown field/,
  },
  {
    name: 'an unknown switch',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: json({ useDomainService: true, killSwitch: false }),
    status: 400,
    error: /^killSwitch: unknown field/,
  },
  {
    name: 'an unknown camera field',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: json({ ...camera, colour: 'red' }),
    status: 400,
    error: /^colour: unknown field/,
  },
  {
    name: 'an unknown fault',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: json({ domain: { errorRate: 0.1, latency: 5 } }),
    status: 400,
    error: /^domain\.latency: unknown field/,
  },
  {
    name: 'an unknown implementation',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: json({ canary: { errorRate: 1 } }),
    status: 400,
    error: /^canary: unknown field/,
  },
  // Numbers.
  {
    name: 'a fractional percent',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ read: { percent: 2.5 } }),
    status: 400,
    error: PERCENT,
  },
  {
    name: 'NaN as a percent',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ read: { percent: 'NaN' } }),
    status: 400,
    error: PERCENT,
  },
  {
    name: 'an infinite percent',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{"groups":{"read":{"percent":1e400}}}',
    status: 400,
    error: PERCENT,
  },
  {
    name: 'a huge percent',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{"groups":{"read":{"percent":100000000000000000000000}}}',
    status: 400,
    error: PERCENT,
  },
  {
    name: 'a negative percent',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ read: { percent: -1 } }),
    status: 400,
    error: PERCENT,
  },
  {
    name: 'a percent as a string',
    method: 'PUT',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: rollout({ read: { percent: '50' } }),
    status: 400,
    error: PERCENT,
  },
  {
    name: 'an infinite error rate',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: '{"domain":{"errorRate":1e400}}',
    status: 400,
    error: /^domain\.errorRate: must be a number 0\.\.1/,
  },
  {
    name: 'a latency of years',
    method: 'PUT',
    path: '/admin/faults',
    admin: true,
    headers: JSON_TYPE,
    body: json({ domain: { latencyMs: 1e12 } }),
    status: 400,
    error: /^domain\.latencyMs: must be at most 600000/,
  },
  {
    name: 'a fractional limit',
    method: 'GET',
    path: '/api/v1/alerts/history-db?limit=1.5',
    status: 400,
    error: /^limit: must be an integer 1\.\.1000/,
  },
  {
    name: 'a repeated limit',
    method: 'GET',
    path: '/api/v1/alerts/history-db?limit=1&limit=2',
    status: 400,
    error: /^limit: must be an integer 1\.\.1000/,
  },
  {
    name: 'an infinite limit',
    method: 'GET',
    path: '/api/v1/alerts/history-db?limit=1e400',
    status: 400,
    error: /^limit: must be an integer 1\.\.1000/,
  },
  {
    name: 'a misspelt query parameter',
    method: 'GET',
    path: '/api/v1/alerts/history-db?lmit=5',
    status: 400,
    error: /^lmit: unknown field/,
  },
  // Headers.
  {
    name: 'an unknown forced implementation',
    method: 'GET',
    path: '/api/v1/cameras',
    headers: { 'X-Rollout-Force': 'canary' },
    status: 400,
    error: /^X-Rollout-Force: must be legacy or domain/,
  },
  {
    name: 'two forced implementations',
    method: 'GET',
    path: '/api/v1/system/info',
    headers: { 'X-Rollout-Force': 'domain, legacy' },
    status: 400,
    error: /^X-Rollout-Force: must be legacy or domain/,
  },
  {
    name: 'a failure injected without force',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: { ...JSON_TYPE, 'X-Rollout-Inject-Failure': 'yaml' },
    body: json(camera),
    status: 400,
    error: /^X-Rollout-Inject-Failure: only allowed together with X-Rollout-Force/,
  },
  {
    name: 'an unknown injected failure',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: { ...JSON_TYPE, 'X-Rollout-Force': 'domain', 'X-Rollout-Inject-Failure': 'disk' },
    body: json(camera),
    status: 400,
    error: /^X-Rollout-Inject-Failure: must be yaml or db/,
  },
  {
    name: 'a routing key of 2000 characters',
    method: 'GET',
    path: '/api/v1/cameras',
    headers: { 'X-Rollout-Key': 'k'.repeat(2000) },
    status: 400,
    error: /^X-Rollout-Key: must be at most 1024 characters/,
  },
  {
    name: 'a wrong admin token',
    method: 'PUT',
    path: '/admin/rollout',
    headers: { ...JSON_TYPE, Authorization: 'Bearer nope' },
    body: rollout({ read: { percent: 5 } }),
    status: 401,
    error: /admin token/,
  },
  // Camera ids.
  {
    name: 'an id with a space',
    method: 'PUT',
    path: '/api/v1/cameras/a%20b',
    headers: JSON_TYPE,
    body: json({ name: 'x' }),
    status: 400,
    error: /^camera_id: must be 1-64 letters, digits/,
  },
  {
    name: 'an id of 65 characters',
    method: 'DELETE',
    path: `/api/v1/cameras/${'a'.repeat(65)}`,
    status: 400,
    error: /^camera_id: must be 1-64 letters, digits/,
  },
  {
    name: 'an id that is ..',
    method: 'DELETE',
    path: '/api/v1/cameras/%2E%2E',
    status: 400,
    error: /^camera_id: must be 1-64 letters, digits/,
  },
  {
    name: 'an id with a NUL',
    method: 'DELETE',
    path: '/api/v1/cameras/cam%00',
    status: 400,
    error: /^camera_id: must be 1-64 letters, digits/,
  },
  {
    name: 'a body id with a slash',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: json({ ...camera, id: 'a/b' }),
    status: 400,
    error: /^id: must be 1-64 letters, digits/,
  },
  {
    name: 'an id that exists',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: json({ ...camera, id: 'cam-001' }),
    status: 409,
    error: /^camera cam-001 already exists/,
  },
  {
    name: 'a name that is not Unicode text',
    method: 'POST',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: '{"name":"\\ud800","rtsp_url":"rtsp://x"}',
    status: 400,
    error: /^name: must be valid Unicode text/,
  },
  // Methods and paths.
  {
    name: 'PATCH on the camera list',
    method: 'PATCH',
    path: '/api/v1/cameras',
    headers: JSON_TYPE,
    body: '{}',
    status: 405,
    error: /^method PATCH not allowed on \/api\/v1\/cameras \(allowed: GET, POST\)/,
  },
  {
    name: 'PUT on a read endpoint',
    method: 'PUT',
    path: '/api/v1/system/info',
    headers: JSON_TYPE,
    body: '{}',
    status: 405,
    error: /^method PUT not allowed on \/api\/v1\/system\/info \(allowed: GET\)/,
  },
  {
    name: 'GET on one camera',
    method: 'GET',
    path: '/api/v1/cameras/cam-001',
    status: 405,
    error: /\(allowed: PUT, DELETE\)/,
  },
  {
    name: 'POST on the switches',
    method: 'POST',
    path: '/admin/rollout',
    admin: true,
    headers: JSON_TYPE,
    body: '{}',
    status: 405,
    error: /^method POST not allowed on \/admin\/rollout \(allowed: GET, PUT\)/,
  },
  {
    name: 'DELETE on the switches',
    method: 'DELETE',
    path: '/admin/rollout',
    admin: true,
    status: 405,
    error: /^method DELETE not allowed on \/admin\/rollout/,
  },
  {
    name: 'an unknown API path',
    method: 'GET',
    path: '/api/v2/cameras',
    status: 404,
    error: /^no route for GET \/api\/v2\/cameras/,
  },
  // Requests that are not HTTP.
  {
    name: 'a header line without a colon',
    method: 'GET',
    path: '/api/v1/cameras',
    raw: 'GET /api/v1/cameras HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
    status: 400,
    error: /^malformed HTTP request/,
  },
  {
    name: 'a request line that is not HTTP',
    method: 'GET',
    path: '/',
    raw: 'HELLO THERE\r\n\r\n',
    status: 400,
    error: /^malformed HTTP request/,
  },
  {
    name: 'headers past the size limit',
    method: 'GET',
    path: '/api/v1/cameras',
    headers: { 'X-Rollout-Key': 'k'.repeat(20_000) },
    status: 431,
    error: /^request headers too large/,
  },
];

/** Raw requests that need a body the HTTP client would add headers to. */
function rawRequest(c: Case): string {
  const auth = c.admin ? `Authorization: Bearer ${TOKEN}\r\n` : '';
  const head = `${c.method} ${c.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}Connection: close\r\n`;
  if (c.raw === 'no-body') return `${head}\r\n`;
  if (c.raw === 'body-without-type') {
    const body = rollout({ read: { percent: 5 } });
    return `${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  }
  return c.raw!;
}

function sendRaw(port: number, bytes: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const header = (name: string) => new RegExp(`^${name}: *(.*)$`, 'im').exec(head)?.[1]?.trim();
      resolve({
        status,
        contentType: header('content-type') ?? '',
        servedBy: header('x-served-by'),
        text: rest.join('\r\n\r\n'),
      });
    });
    socket.end(bytes);
  });
}

function send(port: number, c: Case): Promise<Answer> {
  if (c.raw) return sendRaw(port, rawRequest(c));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...c.headers };
    if (c.admin) headers.Authorization = `Bearer ${TOKEN}`;
    if (c.body !== undefined && headers['Content-Length'] === undefined)
      headers['Content-Length'] = String(Buffer.byteLength(c.body));
    const req = http.request(
      { host: '127.0.0.1', port, method: c.method, path: c.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            servedBy: res.headers['x-served-by'] as string | undefined,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    // The server may answer before it has read a body it refuses (too large): that is not a failure here.
    req.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error),
    );
    req.end(c.body);
  });
}

describe('example backend under hostile HTTP', () => {
  let backend: TestBackend;
  let before: ReturnType<typeof snapshot>;
  let switches: unknown;
  let faults: unknown;

  beforeAll(async () => {
    backend = await startTestBackend({ env: { ROLLOUT_PERCENT: '50' } });
    before = snapshot(backend);
    switches = (await backend.admin('GET', '/admin/rollout')).body;
    faults = (await backend.admin('GET', '/admin/faults')).body;
  });
  afterAll(async () => {
    await backend.dispose();
  });

  it('has a few dozen distinct cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  test.each(CASES.map((c) => [c.name, c] as const))(
    '%s: answers a JSON error naming it',
    async (_name, c) => {
      const answer = await send(backend.port, c);
      let body: unknown;
      try {
        body = JSON.parse(answer.text);
      } catch {
        body = answer.text;
      }
      expect({ status: answer.status, body }).toEqual({
        status: c.status,
        body: expect.objectContaining({ error: expect.stringMatching(c.error) }),
      });
      expect(answer.contentType).toMatch(/^application\/json/);
      if (!c.raw && c.path.startsWith('/api/')) expect(answer.servedBy).toMatch(/^(legacy|domain)$/);
    },
  );

  it('left the switches, the faults and both stores as they were, and the stores agree', async () => {
    expect((await backend.admin('GET', '/admin/rollout')).body).toEqual(switches);
    expect((await backend.admin('GET', '/admin/faults')).body).toEqual(faults);
    expect(snapshot(backend)).toEqual(before);
    const provider = createConsistencyProvider(
      { type: 'sqlite-yaml', database: backend.dbPath, yaml: backend.yamlPath },
      { recheckDelayMs: 20 },
    );
    expect(await provider.compare()).toEqual({ ok: true, checked: 5, differences: [] });
    expect((await backend.request('GET', '/healthz')).status).toBe(200);
  });

  it('still takes a well-formed gzip body and a +json content type', async () => {
    const gz = await send(backend.port, {
      name: 'gzip',
      method: 'PUT',
      path: '/admin/rollout',
      admin: true,
      headers: { ...JSON_TYPE, 'Content-Encoding': 'gzip' },
      body: zlib.gzipSync(rollout({ write: { percent: 7 } })),
      status: 200,
      error: /./,
    });
    expect(gz.status).toBe(200);
    expect(JSON.parse(gz.text).groups.write).toEqual({ percent: 7 });
    const plus = await send(backend.port, {
      name: '+json',
      method: 'PUT',
      path: '/admin/rollout',
      admin: true,
      headers: { 'Content-Type': 'application/merge-patch+json; charset=utf-8' },
      body: rollout({ write: { percent: 50 } }),
      status: 200,
      error: /./,
    });
    expect(plus.status).toBe(200);
    expect((await backend.admin('GET', '/admin/rollout')).body).toEqual(switches);
  });
});
