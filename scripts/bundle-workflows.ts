/**
 * Build step (`npm run build`, after `tsc`): bundles the workflow code once, so workers start
 * from `dist/workflow-bundle.js` instead of running webpack at every start.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { execFileSync } from 'node:child_process';
import { mkdir, rename, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundlePath, ROOT, workflowSourcesEntry } from '../src/workflow-bundle';

async function main(): Promise<void> {
  // Stamped with the time the build began: a source saved while webpack ran is newer than the
  // bundle, so the worker will not trust a bundle that may lack it.
  const began = new Date();
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowSourcesEntry(ROOT) });
  const target = bundlePath(ROOT);
  await mkdir(path.dirname(target), { recursive: true });
  // Write-then-rename: a worker starting meanwhile reads the old bundle or the new, never half.
  const tmp = `${target}.${process.pid}.tmp`;
  await writeFile(tmp, code);
  await utimes(tmp, began, began);
  await rename(tmp, target);
  // The worker's build id names the commit; a deployed dist/ has no git to ask.
  try {
    const commit = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
    await writeFile(path.join(path.dirname(target), 'build-commit'), commit);
  } catch {
    // Not a git checkout: the build id says "local".
  }
  console.log(
    `workflow bundle: ${path.relative(ROOT, target)} (${(code.length / 1024).toFixed(0)} KiB, ${
      Date.now() - began.getTime()
    } ms)`,
  );
}

main().catch((err) => {
  console.error(`bundling the workflow code failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
