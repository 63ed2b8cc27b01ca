/**
 * A rollback never gives up (issue 21, 1): one cause per test, each an error the providers call
 * permanent (401/403, 404, a missing token variable, a missing env file, a restart command that
 * exits 127). The rollout shows what fails (`status.rollback.failing`), alerts once
 * (`rollback-failing`), retries with backoff, and once the cause is fixed ends rolled back, confirmed
 * on the target, with the `rolled-back` notification sent. The workflow runs on the time-skipping
 * server; the activities are the real ones (createActivities) against a real HTTP admin API, a
 * real env file and a real restart command.
 */
import { Worker } from '@temporalio/worker';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { approveUpdate, rollbackSignal, statusQuery, TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import { useTimeSkippingEnv, workflowBundle } from '../helpers/temporal';

jest.setTimeout(180_000);

const getEnv = useTimeSkippingEnv();

/** The target's admin API (GET/PUT /admin/rollout), its health URL and a webhook receiver. */
interface Target {
  url: string;
  /** What the admin API answers: its state, or a refusal. */
  admin: 'ok' | 403 | 404;
  shares: Record<string, number>;
  notifications: Array<{ kind: string; text: string }>;
  /** How long the webhook takes to answer (a slow receiver). */
  hookDelayMs: number;
  close(): Promise<void>;
}

async function startTarget(): Promise<Target> {
  const target = { admin: 'ok', shares: {}, notifications: [], hookDelayMs: 0 } as unknown as Target;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const json = (status: number, data: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(data));
      };
      if (req.url === '/hook') {
        const event = JSON.parse(body);
        return void setTimeout(() => {
          target.notifications.push({ kind: event.kind, text: event.text });
          json(200, { ok: true });
        }, target.hookDelayMs);
      }
      if (req.url === '/health') return json(200, { ok: true });
      if (req.url !== '/admin/rollout') return json(404, { error: 'not found' });
      if (target.admin !== 'ok') return json(target.admin, { error: `refused (${target.admin})` });
      if (req.headers.authorization !== 'Bearer tok') return json(401, { error: 'bad token' });
      if (req.method === 'PUT') {
        const groups = (JSON.parse(body).groups ?? {}) as Record<string, { percent: number }>;
        for (const [g, v] of Object.entries(groups)) target.shares[g] = v.percent;
      }
      const groups = Object.fromEntries(Object.entries(target.shares).map(([g, p]) => [g, { percent: p }]));
      return json(200, { useDomainService: true, groups });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () => new Promise<void>((r) => server.close(() => r()));
  return target;
}

let target: Target;
let dir: string;
/** The worker's environment: the test breaks and fixes it as an operator's worker would be. */
const env: Record<string, string | undefined> = {};
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  target = await startTarget();
  dir = mkdtempSync(path.join(tmpdir(), 'rollback-never-gives-up-'));
  Object.assign(env, { PATH: process.env.PATH, ADMIN_TOKEN: 'tok', ROLLOUT_ALLOW_PATHS: dir, ROLLOUT_ALLOW_COMMANDS: dir });
  worker = await Worker.create({
    connection: getEnv().nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ env: env as NodeJS.ProcessEnv }),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await target?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function plan(traffic: Record<string, unknown>) {
  const id = `never-gives-up-${++n}`;
  return {
    name: id,
    target: { id, baseUrl: target.url, traffic, metrics: { type: 'exposition', url: `${target.url}/metrics` } },
    notify: { webhookUrl: `${target.url}/hook` },
    phases: [
      {
        name: 'reads',
        group: 'read',
        approval: 'before-start',
        endpoints: ['GET /x'],
        steps: [{ percent: 10, observe: '30m' }],
      },
    ],
  };
}

const httpTraffic = () => ({ type: 'http', url: `${target.url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' });

function writeRestart(): void {
  writeFileSync(path.join(dir, 'restart.sh'), '#!/bin/sh\nexit 0\n');
  chmodSync(path.join(dir, 'restart.sh'), 0o755);
}

/** An env file and a restart command that work when the rollout starts (the worker checks both then). */
function envFileTraffic(file: string): () => Record<string, unknown> {
  return () => {
    writeFileSync(path.join(dir, file), 'ROLLOUT_PERCENT=10\n');
    writeRestart();
    return { type: 'env-file', path: path.join(dir, file), restartCommand: path.join(dir, 'restart.sh'), healthUrl: `${target.url}/health` };
  };
}

async function statusWhen(
  handle: { query: (q: typeof statusQuery) => Promise<RolloutStatus> },
  pred: (s: RolloutStatus) => boolean,
  what: string,
): Promise<RolloutStatus> {
  for (let i = 0; i < 200; i++) {
    const s = await handle.query(statusQuery);
    if (pred(s)) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`never ${what}: ${JSON.stringify((await handle.query(statusQuery)).events.slice(-4))}`);
}

test.each<[string, () => Record<string, unknown>, () => void, () => void, RegExp]>([
  ['the admin API refuses the token (403)', httpTraffic, () => (target.admin = 403), () => (target.admin = 'ok'), /403/],
  ['the admin API is not there (404, a target mid-deploy)', httpTraffic, () => (target.admin = 404), () => (target.admin = 'ok'), /404/],
  [
    'the worker lacks the token variable',
    httpTraffic,
    () => delete env.ADMIN_TOKEN,
    () => (env.ADMIN_TOKEN = 'tok'),
    /ADMIN_TOKEN is not set/,
  ],
  [
    'the env file is missing',
    envFileTraffic('backend.env'),
    () => rmSync(path.join(dir, 'backend.env'), { force: true }),
    () => writeFileSync(path.join(dir, 'backend.env'), 'ROLLOUT_PERCENT=10\n'),
    /backend\.env/,
  ],
  [
    'the restart command is not found (exit 127)',
    envFileTraffic('other.env'),
    () => rmSync(path.join(dir, 'restart.sh'), { force: true }),
    writeRestart,
    /127|restart\.sh/,
  ],
])('%s: the rollback is retried until the target confirms it', async (_name, traffic, breakIt, fixIt, error) => {
  const t = getEnv();
  target.notifications.length = 0;
  target.shares.read = 10;
  const p = plan(traffic());
  const handle = await t.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `rollout-${p.target.id}`,
    args: [{ plan: p }],
  });
  await statusWhen(handle, (s) => s.state === 'awaiting-approval', 'awaiting approval');
  breakIt();
  await handle.signal(rollbackSignal, { by: 'alice', reason: 'severe business impact' });
  const failing = await statusWhen(handle, (s) => !!s.rollback?.failing, 'failing');
  expect(failing.state).toBe('rolling-back');
  expect(failing.rollback!.failing).toMatchObject({ group: 'read', attempts: 1, error: expect.stringMatching(error) });
  expect(failing.rollback!.failing!.hint).toMatch(/until the target confirms read at 0%/);
  await statusWhen(handle, () => target.notifications.some((x) => x.kind === 'rollback-failing'), 'alerted');

  fixIt();
  const done = await handle.result();
  expect(done.state).toBe('rolled-back');
  expect(done.rollback).toMatchObject({ trigger: 'manual', by: 'alice', failing: null, completedAt: expect.any(String) });
  expect(done.groups.read).toEqual({ percent: 0, state: 'rolled-back' });
  expect(done.events.map((e) => e.message)).toEqual(
    expect.arrayContaining([expect.stringMatching(/rollback of read not confirmed \(attempt 1\)/), expect.stringMatching(/rollback of read confirmed after \d+ attempts/)]),
  );
  expect(target.notifications.map((x) => x.kind)).toEqual(['awaiting-approval', 'rollback-failing', 'rolled-back']);
  if (p.target.traffic.type === 'http') expect(target.shares.read).toBe(0);
});

test('a slow webhook never holds up the story: an approval is taken while its prompt is still on its way', async () => {
  const t = getEnv();
  target.notifications.length = 0;
  target.hookDelayMs = 6000;
  try {
    const p = plan(httpTraffic());
    const handle = await t.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: `rollout-${p.target.id}`,
      args: [{ plan: p }],
    });
    await statusWhen(handle, (s) => s.state === 'awaiting-approval', 'awaiting approval');
    const outcome = await handle.executeUpdate(approveUpdate, { args: [{ by: 'alice' }] });
    expect(outcome.state).not.toBe('awaiting-approval');
    // The prompt's notification (6 s to deliver) has not been answered yet.
    expect(target.notifications).toEqual([]);
    await handle.signal(rollbackSignal, { by: 'alice', reason: 'end of test' });
    const done = await handle.result();
    // The run ends only once every notification is out.
    expect(target.notifications.map((x) => x.kind)).toEqual(expect.arrayContaining(['awaiting-approval', 'rolled-back']));
    expect(done.events.filter((e) => e.kind === 'notify').map((e) => e.message)).toEqual(
      expect.arrayContaining(['notified awaiting-approval', 'notified rolled-back']),
    );
  } finally {
    target.hookDelayMs = 0;
  }
});
