import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { connectionOptions, temporalSettings } from './config';
import { chooseWorkflowSource } from './workflow-bundle';

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
