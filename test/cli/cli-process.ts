/**
 * `npx rollout` as a subprocess, and the small plans the CLI suites start: no Temporal, worker or
 * backend imported, so suites that need none of them (bad options) start fast.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import type { PlanInput } from '../../src/plan/schema';
import { ROOT } from '../helpers/processes';
import { TEST_POLICY_ENV } from '../helpers/policy';

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
export function rollout(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 60_000,
  /** Piped to stdin (`init --interactive`); without it stdin is empty (not a terminal either way). */
  input?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      // Stores of the test's targets live in temporary directories (the CLI's verify reads them).
      env: { ...process.env, ROLLOUT_DEBUG: '', ...TEST_POLICY_ENV, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(input ?? '');
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
    // 'close', not 'exit': the exit can come before the last of stderr has been read from the pipe.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
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
