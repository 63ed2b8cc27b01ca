/**
 * Shared pieces of the CLI and notification suites: `npx rollout` as a subprocess (from
 * cli-process.ts), a Temporal dev server with an in-process worker running the real activities,
 * and the example backend in-process.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startBackend, type RunningBackend } from '../../example-backend/app';
import { createActivities } from '../../src/activities';
import { TASK_QUEUE } from '../../src/contracts/definitions';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';
import { tempDir } from '../helpers/processes';
import { TEST_POLICY_ENV } from '../helpers/policy';

export { approvalPlan, rollout, writePlan, type CliResult } from './cli-process';

export const ADMIN_TOKEN = 'cli-admin-token';

/** Data directory in memory when there is one: the backend fsyncs every camera write. */
export function memoryDir(prefix: string): string {
  return existsSync('/dev/shm') ? mkdtempSync(path.join('/dev/shm', `rollout-${prefix}-`)) : tempDir(prefix);
}

export interface Stack {
  env: TestWorkflowEnvironment;
  backend: RunningBackend;
  /** Environment for CLI subprocesses: TEMPORAL_ADDRESS, namespace, ADMIN_TOKEN. */
  cliEnv: NodeJS.ProcessEnv;
  dir: string;
  stop(): Promise<void>;
}

/** Dev server (search attributes registered), the example backend, a worker with the real activities. */
export async function startStack(): Promise<Stack> {
  // Activity retries are part of these tests (a webhook answering 500): keep the log to errors.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* a runtime already exists in this test file */
  }
  const env = await createDevServerEnv();
  const dataDir = memoryDir('cli-backend');
  const backend = await startBackend({ port: 0, dataDir, adminToken: ADMIN_TOKEN, log: () => undefined });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ env: { ADMIN_TOKEN, ...TEST_POLICY_ENV } }),
  });
  const running = worker.run();
  const dir = tempDir('cli');
  return {
    env,
    backend,
    dir,
    cliEnv: { TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default', ADMIN_TOKEN },
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await env.teardown();
      await backend.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
