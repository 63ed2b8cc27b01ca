import { MockActivityEnvironment } from '@temporalio/testing';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { TEST_POLICY_ENV } from '../helpers/policy';
import { heartbeat, KEEP_ALIVE_MS, keepAlive, keptAlive } from '../../src/activities/context';
import type { TrafficConfig } from '../../src/plan/schema';
import { serve, tempDir, type Served } from '../providers/support';

/**
 * Activities beat while they wait, so a worker that dies mid-activity is noticed within the
 * heartbeat timeout (10-20 s) instead of the start-to-close timeout (minutes).
 */

/** Runs `fn` in a mock activity context, recording each beat's time and details. */
async function beatsOf<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; beats: Array<{ at: number; details: unknown }> }> {
  const env = new MockActivityEnvironment();
  const beats: Array<{ at: number; details: unknown }> = [];
  env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now(), details }));
  const result = (await env.run(fn)) as T;
  return { result, beats };
}

/** The longest time without a beat from `start` to `end`. */
function longestGap(beats: Array<{ at: number }>, start: number, end: number): number {
  const times = [start, ...beats.map((b) => b.at), end];
  return Math.max(...times.slice(1).map((t, i) => t - times[i]));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keepAlive', () => {
  test('outside an activity it only runs the work', async () => {
    await expect(keepAlive(async () => 42, 10)).resolves.toBe(42);
  });

  test('beats at once and every interval, repeating the details last given to heartbeat()', async () => {
    const { result, beats } = await beatsOf(() =>
      keepAlive(async () => {
        await sleep(120);
        heartbeat({ checked: 3 });
        await sleep(120);
        return 'done';
      }, 30),
    );
    expect(result).toBe('done');
    expect(beats[0].details).toBeUndefined();
    const after = beats.slice(beats.findIndex((b) => (b.details as { checked?: number })?.checked === 3));
    // The explicit beat, then keep-alive beats that carry its details rather than wiping them.
    expect(after.length).toBeGreaterThanOrEqual(3);
    for (const b of after) expect(b.details).toEqual({ checked: 3 });
  });

  test("skips its beat within an interval of the activity's own: a loop that beats often enough costs no extra writes", async () => {
    const { beats } = await beatsOf(() =>
      keepAlive(async () => {
        for (let i = 0; i < 12; i++) {
          heartbeat({ checked: i });
          await sleep(25);
        }
      }, 100),
    );
    // The first beat at the start, then its own twelve over ~300 ms, 25 ms apart: no keep-alive beat.
    expect(beats.map((b) => b.details)).toEqual([
      undefined,
      ...Array.from({ length: 12 }, (_v, i) => ({ checked: i })),
    ]);
  });

  test('stops beating when the work fails, and the failure passes through', async () => {
    const env = new MockActivityEnvironment();
    let count = 0;
    env.on('heartbeat', () => count++);
    await expect(
      env.run(() =>
        keepAlive(async () => {
          await sleep(50);
          throw new Error('target unreachable');
        }, 10),
      ),
    ).rejects.toThrow('target unreachable');
    const atFailure = count;
    await sleep(60);
    expect(count).toBe(atFailure);
  });

  test('keptAlive keeps names and arguments', async () => {
    const acts = keptAlive(
      {
        async add(a: number, b: number) {
          return a + b;
        },
      },
      10,
    );
    expect(acts.add.name).toBe('add');
    const { result, beats } = await beatsOf(() => acts.add(2, 3));
    expect(result).toBe(5);
    expect(beats.length).toBeGreaterThanOrEqual(1);
  });
});

describe('activities that wait keep beating', () => {
  let served: Served | undefined;
  afterEach(async () => served?.close());

  /** How long the stand-ins below take, well over two keep-alive intervals. */
  const SLOW_MS = 5_000;
  /** `keepAlive` promises gaps under 1.5 × its interval; 700 ms for a busy machine. */
  const MAX_GAP = 1.5 * KEEP_ALIVE_MS + 700;

  test('applyTraffic through an admin API that answers its PUT slowly', async () => {
    let groups = { read: { percent: 0 }, write: { percent: 0 } };
    served = await serve((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const answer = () => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ useDomainService: true, groups }));
        };
        if (req.method !== 'PUT') return answer();
        groups = { ...groups, ...JSON.parse(body).groups };
        setTimeout(answer, SLOW_MS);
      });
    });
    const traffic: TrafficConfig = { type: 'http', url: `${served.url}/admin/rollout`, timeout: '10s' };
    const start = Date.now();
    const { result, beats } = await beatsOf(() =>
      createActivities({ env: {} }).applyTraffic({ traffic, group: 'read', percent: 10 }),
    );
    const end = Date.now();
    expect(result.groups.read.percent).toBe(10);
    expect(end - start).toBeGreaterThanOrEqual(SLOW_MS);
    expect(longestGap(beats, start, end)).toBeLessThanOrEqual(MAX_GAP);
  });

  test('rollbackTraffic through an env file whose restart command is slow, then a health wait', async () => {
    served = await serve((_req, res) => {
      res.writeHead(200);
      res.end('ok');
    });
    const dir = tempDir('keep-alive-env');
    const file = path.join(dir, 'backend.env');
    writeFileSync(file, 'USE_DOMAIN_SERVICE=true\nROLLOUT_PERCENT_READ=10\n');
    const traffic: TrafficConfig = {
      type: 'env-file',
      path: file,
      restartCommand: `sleep ${SLOW_MS / 1000}`,
      healthUrl: `${served.url}/health`,
      variables: { read: 'ROLLOUT_PERCENT_READ' },
      percentVariable: 'ROLLOUT_PERCENT',
      killSwitchVariable: 'USE_DOMAIN_SERVICE',
      healthTimeout: '20s',
    };
    const start = Date.now();
    // The worker's policy allows the temporary env file and shell commands here.
    const env = { ...TEST_POLICY_ENV, ROLLOUT_ALLOW_COMMANDS: '*' };
    const { result, beats } = await beatsOf(() =>
      createActivities({ env }).rollbackTraffic({ traffic, group: 'read', mode: 'percent' }),
    );
    const end = Date.now();
    expect(result.state.groups.read.percent).toBe(0);
    expect(end - start).toBeGreaterThanOrEqual(SLOW_MS);
    expect(longestGap(beats, start, end)).toBeLessThanOrEqual(MAX_GAP);
    // The provider's own progress message rides along on the keep-alive beats.
    expect(beats.at(-1)?.details).toBe('running restart command');
  });
});
