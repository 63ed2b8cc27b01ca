/**
 * Shared pieces of the end-to-end suites: the example backend as a process with synthetic traffic,
 * the seed plan pointed at it, and polling helpers for the workflow and the backend's admin API.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { startTraffic, type TrafficRun } from '../../example-backend/traffic';
import type { PlanInput } from '../../src/plan/schema';
import { observationOf, withLiveCheck } from '../../src/client/live-status';
import {
  approveSignal,
  completeSignal,
  statusQuery,
  type RolloutStatus,
} from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import { freePort, ROOT, startBackendProcess, tempDir, type Child } from '../helpers/processes';

/** The worker and the backend get the same token; the plan names only the variable. */
export const ADMIN_TOKEN = 'e2e-admin-token';

export type RolloutHandle = WorkflowHandle<typeof rolloutWorkflow>;

export interface TrafficSettings {
  /** Requests per second. */
  rps: number;
  /** Share of writes (POST/PUT/DELETE cameras). */
  writeRatio: number;
}

export interface Backend {
  url: string;
  port: number;
  dataDir: string;
  child: Child;
  traffic: TrafficRun | undefined;
  /** `GET|PUT|DELETE /admin/...` with the bearer token; throws on a non-2xx answer. */
  admin<T = unknown>(method: 'GET' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T>;
  rollout(): Promise<AdminRollout>;
  startTraffic(settings: TrafficSettings): TrafficRun;
  /** Stops the traffic (it deletes its cameras), then the backend, and removes the data directory. */
  stop(): Promise<void>;
}

export interface AdminRollout {
  useDomainService: boolean;
  groups: Record<'read' | 'write', { percent: number }>;
}

/**
 * A temporary directory in memory when the machine has one. Every camera write fsyncs the YAML and
 * the SQLite WAL; on a busy shared disk that can stall the backend for seconds, and a stalled
 * target makes the orchestrator's admin calls and scrapes time out, which is not what these tests
 * are about.
 */
export function memoryDir(prefix: string): string {
  return existsSync('/dev/shm') ? mkdtempSync(path.join('/dev/shm', `rollout-${prefix}-`)) : tempDir(prefix);
}

/** `npm run backend` on a free port: ADMIN_TOKEN, a temporary DATA_DIR, every group at 0%, kill switch on. */
export async function startBackend(): Promise<Backend> {
  const port = await freePort();
  const dataDir = memoryDir('e2e-backend');
  const child = startBackendProcess(port, dataDir, {
    ADMIN_TOKEN,
    ROLLOUT_PERCENT: '0',
    USE_DOMAIN_SERVICE: 'true',
    ROLLOUT_PERCENT_READ: '',
    ROLLOUT_PERCENT_WRITE: '',
  });
  try {
    await child.waitFor(/camera-api listening on/, 90_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const admin = async <T>(method: 'GET' | 'PUT' | 'DELETE', route: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const backend: Backend = {
    url,
    port,
    dataDir,
    child,
    traffic: undefined,
    admin,
    rollout: () => admin<AdminRollout>('GET', '/admin/rollout'),
    startTraffic(settings) {
      // A large user population: with sticky routing the served share is the share of users
      // below the percent, which must be close to the percent itself.
      backend.traffic = startTraffic({
        target: url,
        rps: settings.rps,
        writeRatio: settings.writeRatio,
        users: 1_000_000,
      });
      return backend.traffic;
    },
    async stop() {
      await backend.traffic?.stop();
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return backend;
}

/** The seed plan (`plans/phase2-3.yaml`) as written. */
export function seedPlan(): PlanInput {
  return parse(readFileSync(path.join(ROOT, 'plans/phase2-3.yaml'), 'utf8')) as PlanInput;
}

/** Points a plan's target at a running backend: URLs on its port, consistency files in its DATA_DIR. */
export function targetAt(plan: PlanInput, backend: Backend, id: string): PlanInput {
  return {
    ...plan,
    target: {
      ...plan.target,
      id,
      baseUrl: backend.url,
      traffic: { type: 'http', url: `${backend.url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' },
      metrics: { type: 'exposition', url: `${backend.url}/metrics` },
      consistency: {
        type: 'sqlite-yaml',
        database: path.join(backend.dataDir, 'cameras.db'),
        yaml: path.join(backend.dataDir, 'cameras.yaml'),
      },
    },
  };
}

/**
 * P95 judgement for the e2e plans: a rise of 50% and at least 100 ms (the seed plan's default floor is
 * 20 ms). With tens of domain requests in a compressed window the P95 is one of the slowest few, and
 * on a busy 2-core machine one scheduling delay moves it by tens of milliseconds (see the report on
 * the P95 check). The latency fault adds 300 ms.
 */
export const E2E_P95_INCREASE = { rollback: 0.5, minDeltaMs: 100 };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A short account of a status for failure messages. */
export function describeStatus(s: RolloutStatus | undefined): string {
  if (!s) return 'no status';
  return JSON.stringify(
    {
      // The rollback and the last check first: CI logs keep only the head of a long message.
      rollback: s.rollback,
      lastCheck: s.lastCheck,
      state: s.state,
      phase: s.phase,
      percent: s.percent,
      groups: s.groups,
      awaiting: s.awaiting,
      history: s.history.map(
        (h) =>
          `${h.startedAt.slice(11, 23)}–${h.endedAt?.slice(11, 23) ?? ''} ${h.group}:${h.percent} ${h.outcome ?? 'running'} ${h.verdict ?? ''}`,
      ),
      events: s.events.slice(-12).map((e) => `${e.at.slice(11, 23)} ${e.kind} ${e.message}`),
    },
    null,
    1,
  );
}

/** Queries `status` every `intervalMs` until `pred` holds; fails with the last status. */
export async function waitForStatus(
  handle: RolloutHandle,
  pred: (s: RolloutStatus) => boolean,
  what: string,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<RolloutStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RolloutStatus | undefined;
  for (;;) {
    last = withLiveCheck(await handle.query(statusQuery), observationOf(await handle.describe()));
    if (pred(last)) return last;
    if (last.state === 'failed' || (last.state === 'rolled-back' && !what.includes('rolled-back')))
      throw new Error(`waiting for ${what}: the rollout ended ${last.state}:\n${describeStatus(last)}`);
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}:\n${describeStatus(last)}`);
    await sleep(intervalMs);
  }
}

/**
 * Waits until the group is observing its current step and `checks` more checks of it have been
 * recorded without a rollback verdict: the canary is healthy before a fault is injected.
 */
export async function waitForCleanChecks(
  handle: RolloutHandle,
  group: string,
  checks = 3,
  timeoutMs = 60_000,
): Promise<RolloutStatus> {
  const seen = new Set<string>();
  return waitForStatus(
    handle,
    (s) => {
      if (s.state !== 'observing' || s.group !== group || !s.lastCheck || s.lastCheck.group !== group)
        return false;
      if (s.lastCheck.verdict === 'rollback')
        throw new Error(`a rollback verdict before any fault:\n${describeStatus(s)}`);
      // Checks recorded since the window began (the step's start verification is recorded too).
      if (s.stepStartedAt && Date.parse(s.lastCheck.at) > Date.parse(s.stepStartedAt))
        seen.add(s.lastCheck.at);
      return seen.size >= checks;
    },
    `${checks} clean checks of ${group}`,
    timeoutMs,
    100,
  );
}

/** Polls `GET /admin/rollout` every 100ms until the group is at 0%; returns when that was seen. */
export async function waitForGroupAtZero(
  backend: Backend,
  group: 'read' | 'write',
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: AdminRollout | undefined;
  for (;;) {
    try {
      last = await backend.rollout();
      if (!last.useDomainService || last.groups[group].percent === 0) return Date.now();
    } catch {
      // the backend is busy; keep polling
    }
    if (Date.now() > deadline)
      throw new Error(`${group} not at 0% after ${timeoutMs}ms: ${JSON.stringify(last)}`);
    await sleep(100);
  }
}

/** What `driveRollout` saw on the way. */
export interface DriveLog {
  /** Holds the driver approved, as `group:percent: prompt`. */
  holds: string[];
  /** Every reason of every check the status showed (the stage checks' among them). */
  reasons: Set<string>;
}

/**
 * Drives a rollout like an operator until it completes: approves holds (as `e2e`), completes
 * monitoring steps (as alice), and hands an approval gate to `onApproval`. Fails when it ends
 * otherwise or takes longer than `timeoutMs`.
 */
export async function driveRollout(
  handle: RolloutHandle,
  onApproval: (status: RolloutStatus) => Promise<void>,
  timeoutMs = 240_000,
): Promise<DriveLog> {
  const started = Date.now();
  const signalled = new Set<string>();
  const log: DriveLog = { holds: [], reasons: new Set() };
  for (;;) {
    const status = await handle.query(statusQuery);
    for (const r of status.lastCheck?.reasons ?? []) log.reasons.add(r);
    // One signal per prompt: a second hold at the same step (e.g. after a failed apply) has a new `since`.
    const key = `${status.state}|${status.awaiting?.since ?? ''}|${status.phase}|${status.stepIndex}|${status.history.length}`;
    if (status.state === 'completed') return log;
    if (status.state === 'rolled-back' || status.state === 'failed')
      throw new Error(
        `the rollout ended ${status.state} (holds approved: ${log.holds.join(' | ') || 'none'}):\n${describeStatus(status)}`,
      );
    if (Date.now() - started > timeoutMs)
      throw new Error(`the rollout did not finish in ${timeoutMs / 1000} s:\n${describeStatus(status)}`);
    if (!signalled.has(key)) {
      if (status.state === 'awaiting-approval') {
        signalled.add(key);
        await onApproval(status);
      } else if (status.state === 'holding') {
        signalled.add(key);
        log.holds.push(`${status.group}:${status.percent}: ${status.awaiting?.prompt}`);
        await handle.signal(approveSignal, { by: 'e2e', comment: 'hold approved by the test' });
      } else if (status.state === 'monitoring') {
        signalled.add(key);
        await handle.signal(completeSignal, { by: 'alice' });
      }
    }
    await sleep(100);
  }
}
