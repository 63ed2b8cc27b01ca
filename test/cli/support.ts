/**
 * Shared pieces of the CLI and notification suites: `npx rollout` as a subprocess, a Temporal dev
 * server with an in-process worker running the real activities, and the example backend in-process.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { startBackend, type RunningBackend } from '../../example-backend/app';
import { createActivities } from '../../src/activities';
import type { PlanInput } from '../../src/plan/schema';
import { TASK_QUEUE } from '../../src/workflows/definitions';
import { createDevServerEnv, workflowBundle } from '../helpers/temporal';
import { ROOT, tempDir } from '../helpers/processes';

export const ADMIN_TOKEN = 'cli-admin-token';
const BIN = path.join(ROOT, 'bin/rollout.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/rollout.js …args` without blocking the event loop (the in-process worker must
 * keep running while the CLI waits for it).
 */
export function rollout(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ROLLOUT_DEBUG: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `rollout ${args.join(' ')} timed out after ${timeoutMs}ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

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
    activities: createActivities({ env: { ADMIN_TOKEN } }),
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

/**
 * A small plan whose first phase waits for approval before it touches the target: the rollout
 * sits in `awaiting-approval` until someone acts. Its URLs point nowhere; tests retarget it with
 * `--target-url`.
 */
export function approvalPlan(targetId: string, extra: Partial<PlanInput> = {}): PlanInput {
  const base = 'http://127.0.0.1:9';
  return {
    name: `cli-${targetId}`,
    target: {
      id: targetId,
      baseUrl: base,
      traffic: { type: 'http', url: `${base}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' },
      metrics: { type: 'exposition', url: `${base}/metrics` },
    },
    approvers: ['alice'],
    phases: [
      {
        name: 'reads',
        group: 'read',
        approval: 'before-start',
        endpoints: ['GET /api/v1/system/info'],
        steps: [
          { percent: 10, observe: '1h' },
          { percent: 100, observe: 'continuous' },
        ],
      },
    ],
    ...extra,
  };
}

export function writePlan(dir: string, name: string, plan: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, name.endsWith('.json') ? JSON.stringify(plan, null, 2) : stringify(plan));
  return file;
}
