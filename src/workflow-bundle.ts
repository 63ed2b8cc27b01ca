import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Where the worker finds its workflow code: a bundle prebuilt by `npm run build` (Temporal's
 * production advice: no webpack at start, so a replacement worker is up in a second or two), or
 * the sources, bundled at start (a fresh clone, tests, `npm start` without a build).
 */

/** Under ts-node this file is `src/workflow-bundle.ts`; compiled, `dist/src/workflow-bundle.js`. */
const COMPILED = __filename.endsWith('.js');

/** The repository (or deployed package) root. */
export const ROOT = path.resolve(__dirname, COMPILED ? '../..' : '..');

/** The bundle `npm run build` writes under `root` (`dist/` is git-ignored). */
export function bundlePath(root: string = ROOT): string {
  return path.join(root, 'dist', 'workflow-bundle.js');
}

/** The workflow entry the bundle is built from. */
export function workflowSourcesEntry(root: string = ROOT): string {
  return path.join(root, 'src', 'workflows', 'index.ts');
}

/** Environment variable: a bundle to use instead of the default, or `off` to bundle at start. */
export const BUNDLE_ENV = 'ROLLOUT_WORKFLOW_BUNDLE';

/**
 * What decides whether a bundle is current: the TypeScript sources (the workflow code and all it
 * imports live under `src/`) and the lock file (an SDK upgrade changes the bundled runtime).
 */
const SOURCE_DIRS = ['src'];
const SOURCE_FILES = ['package-lock.json'];

/** How the worker loads workflow code, and a line saying why, for its banner. */
export type WorkflowSource =
  { kind: 'bundle'; codePath: string; why: string } | { kind: 'sources'; workflowsPath: string; why: string };

/** The newest file under the sources, or `undefined` when there are none (a deployed `dist/` only). */
export function newestSource(root: string = ROOT): { file: string; mtimeMs: number } | undefined {
  let newest: { file: string; mtimeMs: number } | undefined;
  const consider = (file: string) => {
    const { mtimeMs } = statSync(file);
    if (!newest || mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
  };
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) consider(full);
    }
  };
  for (const dir of SOURCE_DIRS) {
    const full = path.join(root, dir);
    if (exists(full)) walk(full);
  }
  for (const file of SOURCE_FILES) {
    const full = path.join(root, file);
    if (exists(full)) consider(full);
  }
  return newest;
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

function mtimeOf(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Picks the prebuilt bundle when it exists and no source is newer than it; the sources otherwise.
 * `workflowsPath` is the workflow entry file of the running code (`index.ts` or `index.js`).
 */
export function chooseWorkflowSource(
  workflowsPath: string,
  env: NodeJS.ProcessEnv = process.env,
  root: string = ROOT,
): WorkflowSource {
  const setting = env[BUNDLE_ENV]?.trim();
  const relative = (file: string) => path.relative(root, file) || file;
  if (setting === 'off')
    return { kind: 'sources', workflowsPath, why: `bundled at start (${BUNDLE_ENV}=off)` };
  if (setting) {
    const codePath = path.resolve(setting);
    if (mtimeOf(codePath) === undefined)
      throw new Error(`${BUNDLE_ENV}=${setting}: no such file (build one with npm run build)`);
    return { kind: 'bundle', codePath, why: `prebuilt bundle ${codePath} (${BUNDLE_ENV})` };
  }
  const codePath = bundlePath(root);
  const built = mtimeOf(codePath);
  if (built === undefined)
    return {
      kind: 'sources',
      workflowsPath,
      why: 'bundled at start (no dist/workflow-bundle.js: npm run build)',
    };
  const newest = newestSource(root);
  if (newest && newest.mtimeMs > built)
    return {
      kind: 'sources',
      workflowsPath,
      why: `bundled at start (${relative(newest.file)} is newer than dist/workflow-bundle.js: npm run build)`,
    };
  return { kind: 'bundle', codePath, why: `prebuilt bundle ${relative(codePath)}` };
}
