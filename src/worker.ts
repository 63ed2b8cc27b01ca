import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { policyFromEnv } from './providers/policy';
import { connectClient } from './client/connection';
import { createWorkerMetrics, freeLocalPort, metricsAddress, serveMetrics } from './worker-metrics';
import { connectionOptions, temporalSettings } from './client/config';
import { parseDuration } from './plan/duration';
import { chooseWorkflowSource } from './workflow-bundle';
import { deploymentOptions, makeCurrentWanted, promote, watchCurrentVersion } from './worker-version';

/** `ROLLOUT_HEARTBEAT_THROTTLE` (a duration such as 500ms or 5s), default 2s. */
export function heartbeatThrottle(env: NodeJS.ProcessEnv): number {
  const text = env.ROLLOUT_HEARTBEAT_THROTTLE;
  if (text === undefined || text === '') return 2000;
  const ms = parseDuration(text);
  if (ms === undefined || ms < 100 || ms > 60_000)
    throw new Error(
      `ROLLOUT_HEARTBEAT_THROTTLE: must be a duration from 100ms to 1m (got ${JSON.stringify(text)})`,
    );
  return ms;
}

/**
 * `ROLLOUT_MAX_ACTIVITIES`: activities one worker runs at once, default 2,000. Every observing
 * rollout holds one (asleep between checks, a few KiB), so the SDK's default of 100 would leave
 * the 101st rollout unwatched until another ends.
 */
export function maxActivities(env: NodeJS.ProcessEnv): number {
  return integerFromEnv(env, 'ROLLOUT_MAX_ACTIVITIES', 2000, 10, 100_000);
}

/**
 * `ROLLOUT_MAX_CACHED_WORKFLOWS`: rollouts the worker keeps in memory between their workflow
 * tasks, default 250. Each costs about 2 MB (the workflow bundle's modules are evaluated for each
 * one), and the SDK's default (thousands, from the heap size) let 1,000 rollouts grow a worker
 * past 2 GiB. A rollout not in the cache is replayed from its history at its next task; an
 * observing rollout has one every 30-minute slice, so that costs little.
 */
export function maxCachedWorkflows(env: NodeJS.ProcessEnv): number {
  return integerFromEnv(env, 'ROLLOUT_MAX_CACHED_WORKFLOWS', 250, 2, 100_000);
}

function integerFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max)
    throw new Error(`${name}: must be an integer from ${min} to ${max} (got ${JSON.stringify(text)})`);
  return n;
}

/** Runs the rollout worker until SIGINT/SIGTERM. Everything it needs comes from the environment. */
export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = temporalSettings(env);
  // A file, not a bare path: the SDK stats it (index.ts under ts-node, index.js once built).
  const source = chooseWorkflowSource(require.resolve('./workflows'), env);
  const deployment = deploymentOptions(env);
  // What plans may reach (ROLLOUT_ALLOW_*): a malformed variable stops the worker here, named.
  const policy = policyFromEnv(env);
  const metricsAt = metricsAddress(env);
  let coreMetricsUrl: string | null = null;
  if (metricsAt) {
    // Core's own exporter, on a private port; ours serves its text after the orchestrator's.
    const corePort = await freeLocalPort();
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${corePort}` } } } });
    coreMetricsUrl = `http://127.0.0.1:${corePort}/metrics`;
  }
  const connection = await NativeConnection.connect(connectionOptions(settings));
  const counting = metricsAt ? await connectClient(env) : null;
  const metrics = metricsAt ? createWorkerMetrics(counting!.client) : null;
  const metricsServer = metrics
    ? await serveMetrics(metrics.registry, metricsAt!, coreMetricsUrl).catch((err: NodeJS.ErrnoException) => {
        throw new Error(
          `ROLLOUT_METRICS_ADDRESS=${metricsAt!.host}:${metricsAt!.port}: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.message}`,
        );
      })
    : null;
  try {
    const worker = await Worker.create({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      ...(source.kind === 'bundle'
        ? { workflowBundle: { codePath: source.codePath } }
        : { workflowsPath: source.workflowsPath }),
      activities: createActivities({ env, policy, ...(metrics ? { metrics: metrics.recorder } : {}) }),
      // How often a running observation's heartbeat (its latest check) reaches the server, where
      // `status` and `watch` read it: at most every 2 s (the SDK's default is 80% of the 20 s
      // heartbeat timeout). Heartbeats are not history events.
      maxHeartbeatThrottleInterval: heartbeatThrottle(env),
      maxConcurrentActivityTaskExecutions: maxActivities(env),
      maxCachedWorkflows: maxCachedWorkflows(env),
      ...(deployment ? { workerDeploymentOptions: deployment } : {}),
    });
    if (metricsAt) console.log(`rollout worker metrics: http://${metricsAt.host}:${metricsAt.port}/metrics`);
    const version = deployment
      ? `version ${deployment.version.deploymentName}/${deployment.version.buildId} (rollouts pinned)`
      : 'unversioned';
    console.log(
      `rollout worker: ${settings.address} namespace=${settings.namespace} task queue=${settings.taskQueue}; ${version}; workflows: ${source.why}`,
    );
    console.log(`rollout worker policy (what plans may reach): ${policy.describe()}`);
    const running = worker.run();
    let watch: { stop(): void } | undefined;
    if (deployment) {
      const buildId = deployment.version.buildId;
      await promote(connection, settings.namespace, buildId, (line) => console.log(line), {
        makeCurrent: makeCurrentWanted(env),
      }).catch((err: unknown) => {
        worker.shutdown();
        throw new Error(`could not read or set the current version of ${deployment.version.deploymentName}: ${err instanceof Error ? err.message : String(err)} (ROLLOUT_WORKER_VERSIONING=off runs unversioned)`);
      });
      // A worker nobody routes to looks healthy and does nothing: say so, with the command that fixes it.
      watch = watchCurrentVersion(connection.workflowService, {
        namespace: settings.namespace,
        taskQueue: settings.taskQueue,
        buildId,
        log: (line) => (line.startsWith('warning:') ? console.warn(line) : console.log(line)),
      });
    }
    try {
      await running;
    } finally {
      watch?.stop();
    }
  } finally {
    metricsServer?.close();
    await counting?.connection.close();
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(`rollout worker failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
