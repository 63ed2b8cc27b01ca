/**
 * Jest's global setup (once per `jest` run, before any suite): the workflow code bundled once.
 *
 * Every suite that runs workflows (the time-skipping suites, the replay test, the CLI suites'
 * in-process worker) and every worker process a suite spawns loads this one bundle instead of
 * running webpack again: webpack takes 3 s on an idle 2-core machine and more on a busy one, per
 * suite and per worker start. The bundle is made from the sources as they are when the run
 * begins, as a worker started from the sources would make it.
 *
 * Its path reaches the suites through the environment (jest's worker processes are forked after
 * this runs): `ROLLOUT_TEST_WORKFLOW_BUNDLE`, read by `workflowBundle()` and `startWorkerProcess()`
 * in test/helpers. Without it (a script importing the helpers outside jest) they bundle as before.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_BUNDLE_ENV, quietLogger } from './temporal';

export default async function globalSetup(): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(path.join(tmpdir(), 'rollout-jest-'));
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: quietLogger,
  });
  const file = path.join(dir, 'workflow-bundle.js');
  writeFileSync(file, code);
  process.env[TEST_BUNDLE_ENV] = file;
  if (process.env.ROLLOUT_TEST_TIMINGS)
    console.log(`\nglobal setup: workflow bundle in ${Date.now() - started} ms (${file})`);
}
