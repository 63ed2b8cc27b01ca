import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { connectionOptions, temporalSettings } from './config';
import { parseDuration } from './plan/duration';
import { chooseWorkflowSource } from './workflow-bundle';

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

/** Runs the rollout worker until SIGINT/SIGTERM. Everything it needs comes from the environment. */
export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const settings = temporalSettings(env);
  // A file, not a bare path: the SDK stats it (index.ts under ts-node, index.js once built).
  const source = chooseWorkflowSource(require.resolve('./workflows'), env);
  const connection = await NativeConnection.connect(connectionOptions(settings));
  try {
    const worker = await Worker.create({
      connection,
      namespace: settings.namespace,
      taskQueue: settings.taskQueue,
      ...(source.kind === 'bundle'
        ? { workflowBundle: { codePath: source.codePath } }
        : { workflowsPath: source.workflowsPath }),
      activities: createActivities({ env }),
      // How often a running observation's heartbeat (its latest check) reaches the server, where
      // `status` and `watch` read it: at most every 2 s (the SDK's default is 80% of the 20 s
      // heartbeat timeout). Heartbeats are not history events.
      maxHeartbeatThrottleInterval: heartbeatThrottle(env),
    });
    console.log(
      `rollout worker: ${settings.address} namespace=${settings.namespace} task queue=${settings.taskQueue}; workflows: ${source.why}`,
    );
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  runWorker().catch((err) => {
    console.error(`rollout worker failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
