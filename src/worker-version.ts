import type { temporal } from '@temporalio/proto';
import type { NativeConnection, WorkerDeploymentOptions } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { parseEnv } from './client/config';
import { ROOT } from './workflow-bundle';

/** The Worker Deployment every rollout worker belongs to. */
export const DEPLOYMENT_NAME = 'rollout-orchestrator';

const envSchema = z.object({
  /** Overrides the build id (default: the package version and the commit). */
  ROLLOUT_BUILD_ID: z
    .string()
    .regex(/^[A-Za-z0-9._+-]{1,255}$/, 'letters, digits and . _ + - only, at most 255')
    .optional(),
  /** `off` runs an unversioned worker (a server without Worker Deployments). */
  ROLLOUT_WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  /**
   * `1`: the worker makes its own version current once it polls, whatever is current (npm start
   * sets it for the dev server it owns). Unset: only the first worker of a deployment does.
   */
  ROLLOUT_MAKE_CURRENT: z.enum(['1', '0', 'true', 'false', '']).optional(),
});

type WorkflowService = temporal.api.workflowservice.v1.WorkflowService;

/** The commit the sources (or the build in `dist/`) come from, or `undefined` outside git. */
function commit(root: string): string | undefined {
  // Compiled, the build says which commit it is; from the sources, the working tree says.
  if (__filename.endsWith('.js'))
    try {
      return readFileSync(path.join(root, 'dist', 'build-commit'), 'utf8').trim() || undefined;
    } catch {
      // A build without git: ask the tree it runs in, if any.
    }
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

/**
 * How the worker joins its Worker Deployment: version `rollout-orchestrator` / `<version>+<commit>`,
 * every rollout pinned to the version that started it, so a new release never replays a running
 * rollout against changed code. `undefined` when `ROLLOUT_WORKER_VERSIONING=off`.
 */
export function deploymentOptions(env: NodeJS.ProcessEnv, root: string = ROOT): WorkerDeploymentOptions | undefined {
  const ours = parseEnv(envSchema, env);
  if (ours.ROLLOUT_WORKER_VERSIONING === 'off') return undefined;
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
  let buildId = ours.ROLLOUT_BUILD_ID;
  if (buildId === undefined) {
    const sha = commit(root);
    // Without a commit every build would share one id, and a rollout pinned to it would replay on
    // whatever code runs next: the pinning the versioning exists for would be gone, silently.
    if (!sha)
      throw new Error(
        `this build has no commit to name its version by (no git checkout at ${root}, no dist/build-commit): ` +
          `set ROLLOUT_BUILD_ID to an id of exactly this code (e.g. ROLLOUT_BUILD_ID=${version}+<your release>), ` +
          'or run unversioned with ROLLOUT_WORKER_VERSIONING=off (rollouts are then not pinned)',
      );
    buildId = `${version}+${sha}`;
  }
  return {
    version: { deploymentName: DEPLOYMENT_NAME, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  };
}

/** `ROLLOUT_MAKE_CURRENT=1`: this worker makes its own version current, whatever is current. */
export function makeCurrentWanted(env: NodeJS.ProcessEnv): boolean {
  const v = parseEnv(envSchema, env).ROLLOUT_MAKE_CURRENT;
  return v === '1' || v === 'true';
}

/** The command that makes `buildId` the version new rollouts start on. */
export function setCurrentCommand(buildId: string): string {
  return `temporal worker deployment set-current-version --deployment-name ${DEPLOYMENT_NAME} --build-id ${buildId}`;
}

/** The deployment's current build id; `null` when it has none (or does not exist yet). */
async function currentBuildId(service: WorkflowService, namespace: string): Promise<string | null> {
  try {
    const d = await service.describeWorkerDeployment({ namespace, deploymentName: DEPLOYMENT_NAME });
    return d.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || null;
  } catch (err) {
    if ((err as { code?: number }).code === 5) return null; // NOT_FOUND: nothing polled yet
    throw err;
  }
}

/**
 * The first worker of a deployment makes its version current: with no current version the server
 * gives new rollouts to unversioned workers only, and there are none. A deployment that has a
 * current version is left alone (promoting a release is the operator's step, docs/operations.md
 * "Upgrading"), unless `makeCurrent` (`ROLLOUT_MAKE_CURRENT=1`, which `npm start` sets for the dev
 * server it owns): then this worker's version becomes current. The version exists once the worker
 * has polled, so this retries for a while.
 */
export async function promote(
  connection: Pick<NativeConnection, 'workflowService'>,
  namespace: string,
  buildId: string,
  log: (line: string) => void,
  options: { makeCurrent?: boolean } = {},
): Promise<void> {
  const service = connection.workflowService;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      const current = await currentBuildId(service, namespace);
      if (current === buildId) {
        log(`worker deployment ${DEPLOYMENT_NAME}: current version ${current} (this worker)`);
        return;
      }
      if (current && !options.makeCurrent) {
        log(`worker deployment ${DEPLOYMENT_NAME}: current version ${current}; this worker is ${buildId}`);
        return;
      }
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: DEPLOYMENT_NAME,
        buildId,
        identity: `rollout worker ${buildId}`,
      });
      log(
        current
          ? `worker deployment ${DEPLOYMENT_NAME}: made ${buildId} current (was ${current}; ROLLOUT_MAKE_CURRENT=1)`
          : `worker deployment ${DEPLOYMENT_NAME}: no current version; made ${buildId} current`,
      );
      return;
    } catch (err) {
      if (attempt === 39) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** `promote` without `makeCurrent`: only the first worker of a deployment makes itself current. */
export function promoteIfFirst(
  connection: Pick<NativeConnection, 'workflowService'>,
  namespace: string,
  buildId: string,
  log: (line: string) => void,
): Promise<void> {
  return promote(connection, namespace, buildId, log);
}

/** A poller not seen for this long is gone: an idle long poll is renewed about every minute. */
export const STALE_POLLER_MS = 90_000;

/**
 * Whether a worker of `buildId` polls the task queue: a poller of that version seen in the last
 * `staleMs` (the server keeps a stopped worker's entry for minutes).
 */
export async function versionHasPollers(
  service: WorkflowService,
  namespace: string,
  taskQueue: string,
  buildId: string,
  staleMs = STALE_POLLER_MS,
  now = Date.now(),
): Promise<boolean> {
  const tq = await service.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: 1 }, // TASK_QUEUE_KIND_NORMAL
    taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
  });
  return (tq.pollers ?? []).some((p) => {
    const d = p.deploymentOptions;
    if (d?.deploymentName !== DEPLOYMENT_NAME || d.buildId !== buildId) return false;
    const t = p.lastAccessTime;
    const seen = t ? Number(String(t.seconds ?? 0)) * 1000 + (t.nanos ?? 0) / 1e6 : 0;
    return now - seen <= staleMs;
  });
}

/**
 * What this worker should say about the deployment's routing: `null` when it is current (or
 * nothing is), a note when another version is current and polled (this worker serves only what is
 * pinned to it: the normal state during an upgrade), a warning when the current version has no
 * worker at all: new rollouts would sit at their first events and every query would time out.
 */
export async function currentVersionNotice(
  service: WorkflowService,
  namespace: string,
  taskQueue: string,
  buildId: string,
  staleMs = STALE_POLLER_MS,
): Promise<{ level: 'info' | 'warning'; text: string } | null> {
  const current = await currentBuildId(service, namespace);
  if (!current || current === buildId) return null;
  if (await versionHasPollers(service, namespace, taskQueue, current, staleMs))
    return {
      level: 'info',
      text: `worker deployment ${DEPLOYMENT_NAME}: the current version is ${current} (its workers poll); this worker (${buildId}) runs only the rollouts pinned to ${buildId} until it is made current: ${setCurrentCommand(buildId)}`,
    };
  return {
    level: 'warning',
    text:
      `warning: worker deployment ${DEPLOYMENT_NAME}: the current version ${current} has no worker polling task queue ${taskQueue}, ` +
      `and this worker (${buildId}) is not current: new rollouts will wait at their first events and status queries will time out. ` +
      `Make this build current: ${setCurrentCommand(buildId)} (or start a worker of ${current} again)`,
  };
}

/**
 * Checks the routing now and then every `everyMs` while the worker runs, and logs a notice when it
 * changes (once, not at every check). Failures to ask are ignored: the check only advises.
 */
export function watchCurrentVersion(
  service: WorkflowService,
  opts: {
    namespace: string;
    taskQueue: string;
    buildId: string;
    log: (line: string) => void;
    everyMs?: number;
    staleMs?: number;
  },
): { stop(): void; checked: Promise<void> } {
  let said: string | null = null;
  let stopped = false;
  const check = async () => {
    try {
      const notice = await currentVersionNotice(service, opts.namespace, opts.taskQueue, opts.buildId, opts.staleMs);
      const text = notice?.text ?? null;
      if (stopped || text === said) return;
      if (text) opts.log(text);
      else if (said?.startsWith('warning:'))
        opts.log(`worker deployment ${DEPLOYMENT_NAME}: the current version has a worker again`);
      said = text;
    } catch {
      // The server is busy or restarting: the next check asks again.
    }
  };
  const checked = check();
  const timer = setInterval(() => void check(), opts.everyMs ?? 60_000);
  timer.unref();
  return {
    checked,
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

/** Running rollouts pinned to a version of the deployment other than `buildId`. */
export interface PinnedElsewhere {
  buildId: string;
  running: number;
  /** Some of their workflow ids. */
  ids: string[];
}

/**
 * The versions other than `buildId` that still have running rollouts pinned to them: those
 * rollouts go on only with a worker of their own version. Counted with the visibility query on
 * `TemporalWorkerDeploymentVersion`; a server that does not know it is asked workflow by workflow.
 * `null` when it cannot tell.
 */
export async function rolloutsPinnedElsewhere(
  service: WorkflowService,
  namespace: string,
  buildId: string,
): Promise<PinnedElsewhere[] | null> {
  try {
    const d = await service.describeWorkerDeployment({ namespace, deploymentName: DEPLOYMENT_NAME });
    const others = (d.workerDeploymentInfo?.versionSummaries ?? [])
      .map((v) => v.deploymentVersion?.buildId)
      .filter((b): b is string => !!b && b !== buildId);
    const out: PinnedElsewhere[] = [];
    try {
      for (const other of others) {
        const query = `TemporalWorkerDeploymentVersion = "${DEPLOYMENT_NAME}:${other}" AND ExecutionStatus = "Running"`;
        const listed = await service.listWorkflowExecutions({ namespace, query, pageSize: 5 });
        const ids = (listed.executions ?? []).map((e) => e.execution?.workflowId ?? '').filter(Boolean);
        if (!ids.length) continue;
        const counted = await service.countWorkflowExecutions({ namespace, query });
        out.push({ buildId: other, running: Number(counted.count ?? ids.length), ids });
      }
      return out;
    } catch {
      return await pinnedByDescribing(service, namespace, buildId);
    }
  } catch (err) {
    if ((err as { code?: number }).code === 5) return [];
    return null;
  }
}

/** The same, one running rollout at a time (servers without the deployment search attributes). */
async function pinnedByDescribing(
  service: WorkflowService,
  namespace: string,
  buildId: string,
): Promise<PinnedElsewhere[]> {
  const byVersion = new Map<string, string[]>();
  const listed = await service.listWorkflowExecutions({
    namespace,
    query: `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'`,
    pageSize: 200,
  });
  for (const e of listed.executions ?? []) {
    const workflowId = e.execution?.workflowId;
    if (!workflowId) continue;
    const described = await service.describeWorkflowExecution({ namespace, execution: { workflowId } });
    const v = described.workflowExecutionInfo?.versioningInfo;
    const pinnedTo = v?.deploymentVersion?.buildId;
    if (!pinnedTo || pinnedTo === buildId || v?.behavior !== 1) continue; // 1: VERSIONING_BEHAVIOR_PINNED
    byVersion.set(pinnedTo, [...(byVersion.get(pinnedTo) ?? []), workflowId]);
  }
  return [...byVersion].map(([b, ids]) => ({ buildId: b, running: ids.length, ids: ids.slice(0, 5) }));
}

/** One line per version with pinned rollouts: how they go on. */
export function describePinnedElsewhere(pinned: PinnedElsewhere[]): string[] {
  return pinned.map(
    (p) =>
      `${p.running} running rollout(s) pinned to ${DEPLOYMENT_NAME} ${p.buildId} (${p.ids.join(', ')}${p.running > p.ids.length ? ', …' : ''}) ` +
      `go on only with a worker of that build: run one from its code (ROLLOUT_BUILD_ID=${p.buildId} npm run worker), or move them (docs/operations.md, "Upgrading")`,
  );
}
