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
});

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
  const buildId = ours.ROLLOUT_BUILD_ID ?? `${version}+${commit(root) ?? 'local'}`;
  return {
    version: { deploymentName: DEPLOYMENT_NAME, buildId },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  };
}

/**
 * The first worker of a deployment makes its version current: with no current version the server
 * gives new rollouts to unversioned workers only, and there are none. A deployment that has a
 * current version is left alone: promoting a release is the operator's step (README, "Upgrading
 * the orchestrator"). The version exists once the worker has polled, so this retries for a while.
 */
export async function promoteIfFirst(
  connection: NativeConnection,
  namespace: string,
  buildId: string,
  log: (line: string) => void,
): Promise<void> {
  const service = connection.workflowService;
  for (let attempt = 0; attempt < 40; attempt++) {
    try {
      let current: string | null = null;
      try {
        const d = await service.describeWorkerDeployment({ namespace, deploymentName: DEPLOYMENT_NAME });
        current = d.workerDeploymentInfo?.routingConfig?.currentDeploymentVersion?.buildId || null;
      } catch (err) {
        if ((err as { code?: number }).code !== 5) throw err; // 5: NOT_FOUND, nothing polled yet
      }
      if (current) {
        log(`worker deployment ${DEPLOYMENT_NAME}: current version ${current}${current === buildId ? ' (this worker)' : `; this worker is ${buildId}`}`);
        return;
      }
      await service.setWorkerDeploymentCurrentVersion({
        namespace,
        deploymentName: DEPLOYMENT_NAME,
        buildId,
        identity: `rollout worker ${buildId}`,
      });
      log(`worker deployment ${DEPLOYMENT_NAME}: no current version; made ${buildId} current`);
      return;
    } catch (err) {
      if (attempt === 39) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}
