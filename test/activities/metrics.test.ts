import fs from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import type { SampleMetricsInput } from '../../src/contracts/activities';
import type { MetricsProvider } from '../../src/providers/metrics';
import { freePort, serve, startTestBackend } from '../providers/support';

const groups = [
  { group: 'read', endpoints: ['GET /api/v1/system/info', 'GET /api/v1/alerts/rules'] },
  {
    group: 'write',
    endpoints: [
      'POST /api/v1/cameras',
      'PUT /api/v1/cameras/{camera_id}',
      'DELETE /api/v1/cameras/{camera_id}',
    ],
  },
];
const now = () => new Date().toISOString();

describe('sampleMetrics', () => {
  test('exposition against the example backend: warmup first, then per-group counts by implementation', async () => {
    const backend = await startTestBackend({
      USE_DOMAIN_SERVICE: 'true',
      ROLLOUT_PERCENT_READ: '100',
      ROLLOUT_PERCENT_WRITE: '0',
    });
    try {
      // One activities object for the worker's life: the provider keeps its previous reading.
      const acts = createActivities({ env: {} });
      const input: SampleMetricsInput = {
        metrics: { type: 'exposition', url: `${backend.url}/metrics`, timeout: '5s' },
        key: 'rollout-camera-api',
        groups,
        from: now(),
        to: now(),
      };
      const first = await acts.sampleMetrics(input);
      expect(first.error).toBeUndefined();
      expect(first.samples.read.warmup).toBe(true);
      expect(first.samples.write.warmup).toBe(true);

      for (let i = 0; i < 12; i++)
        expect((await backend.call('GET', '/api/v1/system/info')).servedBy).toBe('domain');
      expect(
        (
          await backend.call('POST', '/api/v1/cameras', {
            id: 'cam-new',
            name: 'N',
            rtsp_url: 'rtsp://127.0.0.1/n',
          })
        ).status,
      ).toBe(201);
      expect((await backend.call('PUT', '/api/v1/cameras/cam-new', { name: 'M' })).status).toBe(200);
      expect((await backend.call('PUT', '/api/v1/cameras/no-such', { name: 'M' })).status).toBe(404);

      const second = await acts.sampleMetrics({ ...input, from: first.samples.read.to, to: now() });
      expect(second.error).toBeUndefined();
      expect(second.samples.read.domain).toMatchObject({ requests: 12, errors: 0, successes: 12 });
      expect(second.samples.read.legacy.requests).toBe(0);
      expect(second.samples.write.legacy).toMatchObject({ requests: 3, errors: 0, successes: 2 });
      expect(second.samples.write.domain.requests).toBe(0);
    } finally {
      await backend.dispose();
    }
  });

  test('an unreachable metrics source is returned as an error, not thrown', async () => {
    const port = await freePort();
    const reading = await createActivities({ env: {} }).sampleMetrics({
      metrics: { type: 'prometheus', url: `http://127.0.0.1:${port}`, selector: '', timeout: '2s' },
      key: 'k',
      groups,
      from: new Date(Date.now() - 60_000).toISOString(),
      to: now(),
    });
    expect(reading.samples).toEqual({});
    expect(reading.error).toMatch(
      new RegExp(`^read: GET http://127.0.0.1:${port}/api/v1/query: connect ECONNREFUSED`),
    );
    expect(reading.error).toContain('; write: ');
  });

  test('groups that succeeded are kept next to the error of the one that failed', async () => {
    const asked: string[] = [];
    const provider: MetricsProvider = {
      async sample(q) {
        asked.push(`${q.key} ${q.group} ${q.endpoints.length}`);
        if (q.endpoints[0].method === 'POST') throw new Error('boom');
        const stats = { requests: 1, errors: 0, successes: 1, buckets: [] as Array<[number, number]> };
        return { from: q.from.toISOString(), to: q.to.toISOString(), domain: stats, legacy: stats };
      },
    };
    const reading = await createActivities({ env: {}, metricsFor: () => provider }).sampleMetrics({
      metrics: { type: 'exposition', url: 'http://127.0.0.1:1/metrics', timeout: '1s' },
      key: 'k',
      groups,
      from: now(),
      to: now(),
    });
    expect(Object.keys(reading.samples)).toEqual(['read']);
    expect(reading.error).toBe('write: boom');
    expect(asked).toEqual(['k read 2', 'k write 3']);
  });

  test('a garbage scrape: the group is left out, the error names the group, line and series; the next scrape diffs against the last good one', async () => {
    const good = fs.readFileSync(
      path.join(__dirname, '../providers/metrics/fixtures/backend-scrape.txt'),
      'utf8',
    );
    const series = 'http_requests_total{route="/api/v1/system/info",method="GET",impl="domain",status="200"}';
    let body = good;
    const target = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      res.end(body);
    });
    try {
      const acts = createActivities({ env: {} });
      const input: SampleMetricsInput = {
        metrics: { type: 'exposition', url: `${target.url}/metrics`, timeout: '5s' },
        key: 'rollout-camera-api',
        groups,
        from: now(),
        to: now(),
      };
      expect((await acts.sampleMetrics(input)).samples.read.warmup).toBe(true);

      body = good.replace(`${series} 6\n`, `${series} NaN\n`);
      const line = good.split('\n').findIndex((l) => l.startsWith(series)) + 1;
      const garbage = await acts.sampleMetrics(input);
      expect(Object.keys(garbage.samples)).toEqual(['write']);
      expect(garbage.error).toBe(
        `read: GET ${target.url}/metrics: line ${line}: ${series} is NaN: not a number`,
      );

      body = good.replace(`${series} 6\n`, `${series} 9\n`);
      const next = await acts.sampleMetrics(input);
      expect(next.error).toBeUndefined();
      expect(next.samples.read.domain).toMatchObject({ requests: 3, successes: 3, keys: 18 });
      expect(next.samples.read.legacy).toMatchObject({ requests: 0, keys: 22 });
    } finally {
      await target.close();
    }
  });

  test('a bad provider config is an error in the reading too', async () => {
    const reading = await createActivities({ env: {} }).sampleMetrics({
      metrics: { type: 'exposition', url: 'http://127.0.0.1:1/metrics', timeout: 'soon' },
      key: 'k',
      groups,
      from: now(),
      to: now(),
    });
    expect(reading).toEqual({
      samples: {},
      error: 'target.metrics.timeout: "soon" is not a duration like 10s, 30m or 1h',
    });
  });
});
