import type { Client, Connection, WorkflowExecutionDescription, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import net from 'node:net';
import { connectClient, rolloutIdFor } from './connection';
import { temporalSettings, type TemporalSettings } from './config';
import { observationOf, withLiveCheck } from './live-status';
import { statusQuery, type RolloutStatus } from '../contracts/definitions';
import { CliError, EXIT, toCliError } from './errors';

export interface Temporal {
  client: Client;
  connection: Connection;
  settings: TemporalSettings;
  /** Runs `fn` with a deadline; a slow server or worker becomes a one-line timeout message. */
  timed<T>(ms: number, fn: () => Promise<T>): Promise<T>;
}

/** A TCP connect first: "connection refused" in milliseconds instead of a gRPC deadline later. */
function probe(address: string, timeoutMs = 3000): Promise<void> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  if (!m) return Promise.resolve();
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new CliError(
          `timed out connecting to Temporal at ${address}. Hint: check TEMPORAL_ADDRESS and the network.`,
          EXIT.unreachable,
        ),
      );
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolve();
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `unknown host ${host}`
            : (err.code ?? err.message);
      reject(
        new CliError(
          `cannot reach Temporal at ${address}: ${why}. Hint: start a local one with \`npm start\`, or set TEMPORAL_ADDRESS to your cluster.`,
          EXIT.unreachable,
        ),
      );
    });
  });
}

/** A connection that stays open (the rollout page's); `close` ends it. */
export interface OpenTemporal extends Temporal {
  close(): Promise<void>;
  /** Turns what went wrong into a `CliError` naming the server. */
  fail(err: unknown): CliError;
}

/** Connects from the environment (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TLS/API key). */
export async function openTemporal(env: NodeJS.ProcessEnv = process.env): Promise<OpenTemporal> {
  let settings: TemporalSettings;
  try {
    settings = temporalSettings(env);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.invalid);
  }
  const fail = (err: unknown) => toCliError(err, settings.address, settings.namespace);
  await probe(settings.address);
  let connected: Awaited<ReturnType<typeof connectClient>>;
  try {
    connected = await connectClient(env);
  } catch (err) {
    throw fail(err);
  }
  const { client, connection } = connected;
  return {
    client,
    connection,
    settings,
    timed: (ms, f) => connection.withDeadline(Date.now() + ms, f),
    fail,
    close: () => connection.close().catch(() => undefined),
  };
}

/** Connects from the environment, runs `fn`, closes. */
export async function withTemporal<T>(
  fn: (t: Temporal) => Promise<T>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const t = await openTemporal(env);
  try {
    return await fn(t);
  } catch (err) {
    throw t.fail(err);
  } finally {
    await t.close();
  }
}

export interface Rollout {
  id: string;
  handle: WorkflowHandle;
  description: WorkflowExecutionDescription;
}

/** Finds a rollout by workflow id, or by target id (`orders-api` → `rollout-orders-api`). */
export async function findRollout(t: Temporal, idOrTarget: string): Promise<Rollout> {
  const candidates = [idOrTarget];
  if (!idOrTarget.startsWith('rollout-')) candidates.push(rolloutIdFor(idOrTarget));
  for (const id of candidates) {
    const handle = t.client.workflow.getHandle(id);
    try {
      const description = await t.timed(10_000, () => handle.describe());
      return { id, handle, description };
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
    }
  }
  throw new CliError(
    `no rollout "${idOrTarget}" in namespace ${t.settings.namespace} at ${t.settings.address}. Hint: \`npx rollout list\` shows the rollouts there.`,
    EXIT.notFound,
  );
}

export function isRunning(r: Rollout): boolean {
  return r.description.status.name === 'RUNNING';
}

/** What `status` shows when the workflow ended without a status (e.g. an invalid plan). */
export interface EndedWithoutStatus {
  rolloutId: string;
  state: 'failed';
  workflowStatus: string;
  error: string;
}

/**
 * The `status` query of a running rollout; for one that ended, its result (which is the final
 * status) so no worker is needed; for one that failed, the failure.
 */
export async function readStatus(t: Temporal, r: Rollout): Promise<RolloutStatus | EndedWithoutStatus> {
  const wfStatus = r.description.status.name;
  if (wfStatus === 'RUNNING') {
    // A query needs a worker: with none polling, say so now instead of after the deadline.
    if ((await hasWorker(t)) === false) throw noWorker(t, r.id);
    try {
      const status = await t.timed(15_000, () => r.handle.query(statusQuery));
      // The latest check lives in the running observation's heartbeat, not yet in the workflow.
      const description = await t.timed(15_000, () => r.handle.describe());
      return withLiveCheck(status, observationOf(description));
    } catch (err) {
      const e = toCliError(err, t.settings.address, t.settings.namespace);
      if (e.code === EXIT.unreachable && /timed out/.test(e.message)) throw noWorker(t, r.id);
      throw e;
    }
  }
  if (wfStatus === 'COMPLETED') return (await t.timed(15_000, () => r.handle.result())) as RolloutStatus;
  let error = `workflow ${wfStatus.toLowerCase()}`;
  try {
    await t.timed(15_000, () => r.handle.result());
  } catch (err) {
    const cause = (err as { cause?: Error }).cause;
    error = cause?.message ?? (err as Error).message;
  }
  return { rolloutId: r.id, state: 'failed', workflowStatus: wfStatus, error };
}

function noWorker(t: Temporal, id: string): CliError {
  return new CliError(
    `rollout ${id} is running but no worker answers on task queue ${t.settings.taskQueue}. Hint: start the worker (\`npm run worker\` or \`npm start\`).`,
    EXIT.unreachable,
  );
}

/** Whether a worker polls the task queue; undefined when the server would not say. */
export async function hasWorker(t: Temporal): Promise<boolean | undefined> {
  try {
    const res = await t.timed(5000, () =>
      t.client.workflowService.describeTaskQueue({
        namespace: t.settings.namespace,
        taskQueue: { name: t.settings.taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }),
    );
    return (res.pollers?.length ?? 0) > 0;
  } catch {
    return undefined;
  }
}

export function hasStatus(s: RolloutStatus | EndedWithoutStatus): s is RolloutStatus {
  return 'plan' in s;
}
