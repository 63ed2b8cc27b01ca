/**
 * `rollout verify` says when the P95 it sampled sits in buckets too coarse to show the plan's
 * threshold (the window judge's `p95BucketWarning`), against the example backend's real metrics.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startBackend, type RunningBackend } from '../../example-backend/app';
import { bucketWarnings } from '../../src/cli/verify-stage';
import { planSchema, type CheckName } from '../../src/plan/schema';
import { createRandom } from '../../src/simulate/random';
import { BACKEND_BUCKETS, FINE_BUCKETS, startTraffic } from '../../src/simulate/traffic-model';
import type { GroupSample } from '../../src/judge/samples';
import { rollout } from './cli-process';

jest.setTimeout(90_000);

const plan = planSchema.parse({
  name: 'w',
  target: {
    id: 'w',
    baseUrl: 'http://127.0.0.1:9',
    traffic: { type: 'http', url: 'http://127.0.0.1:9/admin/rollout' },
    metrics: { type: 'exposition', url: 'http://127.0.0.1:9/metrics' },
  },
  phases: [{ name: 'reads', group: 'read', endpoints: ['GET /x'], steps: [{ percent: 10, observe: '1h' }] }],
});
const ALL: CheckName[] = ['errorRate', 'successRate', 'p95', 'servedShare'];

/** A minute of synthetic traffic: legacy median 40 ms σ 0.5, so a P95 of 91 ms. */
function minute(percent: number, buckets: readonly number[]): GroupSample {
  const stream = startTraffic(
    {
      rps: 50,
      percent,
      checkIntervalMs: 60_000,
      routing: { kind: 'per-request' },
      errorRate: { legacy: 0.005, domain: 0.005 },
      latency: { medianMs: 40, sigma: 0.5 },
      buckets,
    },
    createRandom(`verify/${percent}/${buckets.length}`),
  );
  return stream.next();
}

describe('bucket warnings of a verify sample', () => {
  it.each([
    [
      'legacy P95 91 ms on the backend buckets',
      minute(10, BACKEND_BUCKETS),
      ALL,
      /^p95: P95 ≈ [\d.]+ms sits in the 50\.0ms–100\.0ms bucket: buckets cannot show \+50\.00% here .*add bounds such as [\d.]+(, [\d.]+)*$/,
    ],
    [
      'at 100%, the domain stands in for legacy',
      minute(100, BACKEND_BUCKETS),
      ALL,
      /^p95: P95 ≈ [\d.]+ms sits in the 50\.0ms–100\.0ms bucket/,
    ],
    ['fine buckets', minute(10, FINE_BUCKETS), ALL, null],
    ['a phase without the p95 check', minute(10, BACKEND_BUCKETS), ['errorRate'] as CheckName[], null],
  ])('%s', (_name, sample, checks, expected) => {
    const w = bucketWarnings(sample, plan, checks);
    if (expected === null) expect(w).toEqual([]);
    else expect(w).toEqual([expect.stringMatching(expected)]);
  });
});

describe('rollout verify on the example backend', () => {
  let dir: string;
  let backend: RunningBackend;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'rollout-verify-buckets-'));
    backend = await startBackend({ port: 0, dataDir: dir, adminToken: 'tok', log: () => undefined });
    const admin = (route: string, body: unknown) =>
      fetch(`${backend.url}${route}`, {
        method: 'PUT',
        headers: { authorization: 'Bearer tok', 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // 90 ms answers on both sides: a P95 just under the backend's 100 ms bound.
    expect(
      (await admin('/admin/faults', { legacy: { latencyMs: 90 }, domain: { latencyMs: 90 } })).status,
    ).toBe(200);
    expect((await admin('/admin/rollout', { groups: { read: { percent: 50 } } })).status).toBe(200);
  });
  afterAll(async () => {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints the P95 bucket warning of the phase it sampled', async () => {
    let stop = false;
    const load = async () => {
      while (!stop) await fetch(`${backend.url}/api/v1/system/info`).then((r) => r.arrayBuffer());
    };
    const clients = Array.from({ length: 8 }, load);
    const r = await rollout(
      ['verify', 'plans/phase2-3.yaml', '--target-url', backend.url, '--phase', 'read', '--window', '4s'],
      { ADMIN_TOKEN: 'tok' },
    );
    stop = true;
    await Promise.all(clients);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(
      /\n {2}warning: p95: P95 ≈ [\d.]+ms sits in the (50\.0ms–100\.0ms|100\.0ms–250\.0ms) bucket: buckets cannot show \+50\.00% here \(a domain P95 must pass [\d.]+ms, \+[\d.]+%\); add bounds such as [\d.]+(, [\d.]+)*\n {2}verdict: /,
    );
  });

  it("says what the plan cannot judge before it samples (the plan's validation warnings)", async () => {
    const dirPlan = mkdtempSync(path.join(tmpdir(), 'rollout-verify-warnings-'));
    try {
      const file = path.join(dirPlan, 'plan.yaml');
      const text = readFileSync('plans/phase2-3.yaml', 'utf8').replace(
        /( +)servedShare: \{ tolerance: 0\.10 \}/,
        '$1servedShare: { tolerance: 0.10 }\n$1rollbackConfidence: 3',
      );
      expect(text).toContain('rollbackConfidence: 3');
      writeFileSync(file, text);
      const r = await rollout(['verify', file, '--target-url', backend.url, '--phase', 'read', '--window', '1s'], {
        ADMIN_TOKEN: 'tok',
      });
      expect(r.stderr).toMatch(/^warning: defaults\.thresholds\.rollbackConfidence: /m);
    } finally {
      rmSync(dirPlan, { recursive: true, force: true });
    }
  });
});
