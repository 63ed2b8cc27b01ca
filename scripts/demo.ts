/**
 * `npm run demo`: the seed plan (plans/phase2-3.yaml) against the example backend, compressed to
 * about two minutes: phase 2 climbs 10% → 25% → 50% → 100% with `watch` running, phase 3 is
 * approved, a fault is injected into the domain service, and the orchestrator rolls back by itself.
 *
 * Reuses a stack started with `npm start` when one is running (Temporal, backend and a worker);
 * otherwise starts its own (Temporal in memory) and stops it at the end.
 *
 * Environment: DEMO_TIME_SCALE (default 120), DEMO_RPS (default 100), plus npm start's variables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { temporal } from '@temporalio/proto';
import { connectClient } from '../src/client/connection';
import { temporalSettings } from '../src/client/config';
import { statusQuery, type RolloutStatus } from '../src/contracts/definitions';
import { DEFAULT_ADMIN_TOKEN, ROOT, startStack, StartError, type Stack } from './start';

const PLAN = 'plans/phase2-3.yaml';
const ID = 'rollout-camera-api';
const TIME_SCALE = Number(process.env.DEMO_TIME_SCALE || 120);
const RPS = Number(process.env.DEMO_RPS || 100);
const FAULT = { domain: { errorRate: 0.5 } };

const started = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
function clock(): string {
  const s = Math.round((Date.now() - started) / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
function say(text: string): void {
  process.stdout.write(`\n[${clock()}] ==> ${text}\n`);
}
function note(text: string): void {
  process.stdout.write(`            ${text}\n`);
}

class DemoError extends Error {}

/** Runs `npx rollout …` (bin/rollout.js), showing the command and its output. */
function rolloutCli(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  process.stdout.write(
    `$ npx rollout ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\n`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/rollout.js'), ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

/** `watch` in the background, its lines marked so they read apart from the narration. */
function startWatch(env: NodeJS.ProcessEnv): { proc: ChildProcess; done: Promise<number> } {
  const proc = spawn(
    process.execPath,
    [path.join(ROOT, 'bin/rollout.js'), 'watch', ID, '--plain', '--interval', '1'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let rest = '';
  const onData = (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) process.stdout.write(`  watch │ ${l}\n`);
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const done = new Promise<number>((resolve) =>
    proc.once('exit', (code) => {
      if (rest) process.stdout.write(`  watch │ ${rest}\n`);
      resolve(code ?? 1);
    }),
  );
  return { proc, done };
}

async function admin(
  backendUrl: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
): Promise<unknown> {
  const res = await fetch(`${backendUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(5000),
  });
  if (!res.ok)
    throw new DemoError(
      `${method} ${route} on the backend: HTTP ${res.status}${res.status === 401 ? " (set ADMIN_TOKEN to the backend's token)" : ''}`,
    );
  return res.json();
}

/** A stack from `npm start` is reused when Temporal, the backend and a worker all answer. */
/** What the demo needs of a stack: the example backend is part of it. */
type DemoStack = Pick<Stack, 'adminToken' | 'env'> & { backendUrl: string };

async function runningStack(
  env: NodeJS.ProcessEnv,
): Promise<DemoStack | null> {
  const backendUrl = `http://127.0.0.1:${env.BACKEND_PORT || 8000}`;
  try {
    const res = await fetch(`${backendUrl}/healthz`, { signal: AbortSignal.timeout(1500) });
    if (!res.ok) return null;
  } catch {
    return null;
  }
  const address = env.TEMPORAL_ADDRESS || `127.0.0.1:${env.TEMPORAL_PORT || 7233}`;
  const childEnv = { ...env, TEMPORAL_ADDRESS: address, ADMIN_TOKEN: env.ADMIN_TOKEN || DEFAULT_ADMIN_TOKEN };
  try {
    const { client, connection, settings } = await connectClient(childEnv);
    try {
      const tq = await client.workflowService.describeTaskQueue({
        namespace: settings.namespace,
        taskQueue: { name: settings.taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      if (!tq.pollers?.length) return null;
    } finally {
      await connection.close();
    }
  } catch {
    return null;
  }
  return { backendUrl, adminToken: childEnv.ADMIN_TOKEN, env: childEnv };
}

async function main(): Promise<number> {
  if (!(TIME_SCALE > 0) || !(RPS > 0))
    throw new DemoError('DEMO_TIME_SCALE and DEMO_RPS must be positive numbers');
  process.stdout.write(
    `Rollout Orchestrator demo: the seed plan ${PLAN} against the example backend (camera-api).\n` +
      `Every window is divided by ${TIME_SCALE} (30m → ${Math.round(1800 / TIME_SCALE)}s), so the rollout takes about two minutes.\n`,
  );

  let own: Stack | undefined;
  let stack: DemoStack | null = await runningStack(process.env);
  say(
    stack
      ? `Reusing the stack started by \`npm start\` (backend ${stack.backendUrl}).`
      : 'Starting Temporal (in memory), the worker, the example backend and synthetic traffic…',
  );
  if (!stack) {
    own = await startStack({ temporalDb: null, persistSwitches: false, rps: RPS, echo: false, log: note });
    stack = { ...own, backendUrl: own.backendUrl! }; // started with the example (the default)
    note(`Temporal UI ${own.uiUrl} · backend ${own.backendUrl} · ${RPS} req/s of synthetic users`);
  }
  const env: NodeJS.ProcessEnv = { ...stack.env, ROLLOUT_DEBUG: '' };
  const settings = temporalSettings(env);
  const { client, connection } = await connectClient(env);
  let watch: ReturnType<typeof startWatch> | undefined;
  try {
    const handle = client.workflow.getHandle(ID);
    const describe = await handle.describe().catch(() => undefined);
    if (describe?.status.name === 'RUNNING')
      throw new DemoError(
        `${ID} is already running on ${settings.address}: the demo needs camera-api to itself. Roll it back (\`npx rollout rollback ${ID} --by you\`) or stop \`npm start\`, then run the demo again.`,
      );
    await admin(stack.backendUrl, stack.adminToken, 'DELETE', '/admin/faults');
    await admin(stack.backendUrl, stack.adminToken, 'PUT', '/admin/rollout', {
      useDomainService: true,
      groups: { read: { percent: 0 }, write: { percent: 0 } },
    });

    say(
      '1. Start the seed plan: phase 2 (reads) 10% → 25% → 50% → 100%, then phase 3 (writes) after a human approves.',
    );
    const targetUrl = stack.backendUrl === 'http://127.0.0.1:8000' ? [] : ['--target-url', stack.backendUrl];
    if ((await rolloutCli(['start', PLAN, '--time-scale', String(TIME_SCALE), ...targetUrl], env)) !== 0)
      throw new DemoError('`rollout start` failed');

    say(
      `2. Watch it live (\`npx rollout watch ${ID}\`, marked "watch │"). Each step: set the share, probe both implementations, observe the window, judge.`,
    );
    watch = startWatch(env);

    // Phase 2 runs by itself; the demo steps in when the rollout waits for a person.
    let approvedPhase3 = false;
    let faultAt: number | undefined;
    let lastHoldKey = '';
    for (;;) {
      await sleep(500);
      const d = await handle.describe();
      if (d.status.name !== 'RUNNING') break;
      let s: RolloutStatus;
      try {
        s = await handle.query(statusQuery);
      } catch {
        continue;
      }
      if (s.state === 'holding' && s.awaiting) {
        const key = `${s.phase}:${s.stepIndex}:${s.awaiting.since}`;
        if (key !== lastHoldKey) {
          lastHoldKey = key;
          say(
            `The rollout holds at ${s.phase} ${s.percent}% instead of advancing: the evidence was not clear enough to pass.`,
          );
          const reasons = s.lastCheck?.reasons.join('; ') ?? s.awaiting.prompt;
          note(`why: ${reasons}`);
          note(
            /served|only \d+/.test(reasons)
              ? 'A window divided by the time scale sees little traffic, so a share can look off by chance. A person would look; the demo approves.'
              : 'A person would look into it; the demo approves to keep going.',
          );
          await rolloutCli(
            ['approve', ID, '--by', 'demo-operator', '--comment', 'demo: sample too small, going on'],
            env,
          );
        }
      }
      if (s.state === 'awaiting-approval' && s.phase === 'phase3-write' && !approvedPhase3) {
        approvedPhase3 = true;
        say(
          '3. Phase 2 is at 100% and still monitored. Phase 3 (writes) waits for a human approval: approving.',
        );
        await rolloutCli(['approve', ID, '--by', 'alice', '--comment', 'phase 2 stable'], env);
      }
      if (s.phase === 'phase3-write' && s.state === 'observing' && faultAt === undefined) {
        await sleep(2000);
        faultAt = Date.now();
        say(
          '4. Phase 3 is observing writes at 5%. Now break the domain service: half its answers become HTTP 500.',
        );
        process.stdout.write(
          `$ curl -X PUT ${stack.backendUrl}/admin/faults -H "Authorization: Bearer $ADMIN_TOKEN" -d '${JSON.stringify(FAULT)}'\n`,
        );
        process.stdout.write(
          `${JSON.stringify(await admin(stack.backendUrl, stack.adminToken, 'PUT', '/admin/faults', FAULT))}\n`,
        );
        note('Nobody touches the rollout from here on: the checks run every tick and must catch it.');
      }
    }
    const final = (await handle.result()) as RolloutStatus;
    await watch.done;
    watch = undefined;

    say(`5. The rollout ended: ${final.state}.`);
    if (final.rollback) {
      const r = final.rollback;
      const after = faultAt
        ? ` ${((Date.parse(r.at) - faultAt) / 1000).toFixed(1)}s after the fault was injected`
        : '';
      note(
        `trigger ${r.trigger}${r.by ? ` (by ${r.by})` : ' (automatic)'}${after}; reverted ${r.groups.join(', ')}; confirmed at ${r.completedAt ?? '—'}`,
      );
      note(`reason: ${r.reason}`);
    }
    const switches = await admin(stack.backendUrl, stack.adminToken, 'GET', '/admin/rollout');
    note(`backend switches now: ${JSON.stringify(switches)}`);
    say('The record: every step with its window, verdict and figures, and who decided what.');
    await rolloutCli(['history', ID], env);

    const ok =
      final.state === 'rolled-back' &&
      !!faultAt &&
      final.rollback?.by === null &&
      final.rollback?.trigger !== 'manual';
    if (!ok) {
      say(
        faultAt
          ? 'Unexpected: the rollout did not end in an automatic rollback after the fault.'
          : `Unexpected: the rollout ended (${final.state}${final.rollback ? `, ${final.rollback.trigger}: ${final.rollback.reason}` : ''}) before phase 3 and the fault.`,
      );
      return 1;
    }
    say(
      `Done in ${clock()}: phase 2 rolled out, phase 3 approved, the fault caught and rolled back without anyone stepping in.`,
    );
    note(
      'Try it yourself: `npm start`, then `npx rollout start plans/phase2-3.yaml --time-scale 60` (README.md).',
    );
    return 0;
  } finally {
    if (watch) watch.proc.kill('SIGTERM');
    await connection.close().catch(() => undefined);
    if (stack)
      await admin(stack.backendUrl, stack.adminToken, 'DELETE', '/admin/faults').catch(() => undefined);
    if (own) {
      say('Stopping the demo stack (traffic, worker, backend, Temporal)…');
      await own.stop();
    }
  }
}

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stdout.write('\ninterrupted: stopping…\n');
    // `startStack` kills its children when this process exits.
    setTimeout(() => process.exit(130), 100);
  });

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message =
      err instanceof DemoError || err instanceof StartError
        ? err.message
        : err instanceof Error
          ? (err.stack ?? err.message)
          : String(err);
    process.stderr.write(`\nnpm run demo: ${message}\n`);
    process.exit(1);
  },
);
