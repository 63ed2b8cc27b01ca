import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUNDLE_ENV, chooseWorkflowSource } from '../../src/workflow-bundle';

/** A root with `src/workflows/index.ts` (and a nested file) and optionally a bundle, with set mtimes. */
function layout(files: { sources?: number; nested?: number; lock?: number; bundle?: number }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'rollout-bundle-'));
  const put = (rel: string, mtimeSec: number | undefined) => {
    if (mtimeSec === undefined) return;
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '// test\n');
    utimesSync(file, mtimeSec, mtimeSec);
  };
  put('src/workflows/index.ts', files.sources);
  put('src/plan/limits.ts', files.nested);
  put('package-lock.json', files.lock);
  put('dist/workflow-bundle.js', files.bundle);
  return root;
}

const ENTRY = '/somewhere/src/workflows/index.ts';

describe('chooseWorkflowSource', () => {
  const cases: Array<{
    name: string;
    files: Parameters<typeof layout>[0];
    env?: Record<string, string>;
    kind: 'bundle' | 'sources';
    why: RegExp;
  }> = [
    {
      name: 'no bundle: bundled at start',
      files: { sources: 100 },
      kind: 'sources',
      why: /no dist\/workflow-bundle\.js/,
    },
    {
      name: 'bundle newer than every source',
      files: { sources: 100, nested: 150, lock: 90, bundle: 200 },
      kind: 'bundle',
      why: /prebuilt bundle dist\/workflow-bundle\.js/,
    },
    {
      name: 'a nested source edited after the build',
      files: { sources: 100, nested: 300, bundle: 200 },
      kind: 'sources',
      why: /src\/plan\/limits\.ts is newer/,
    },
    {
      name: 'the lock file changed after the build (SDK upgrade)',
      files: { sources: 100, lock: 300, bundle: 200 },
      kind: 'sources',
      why: /package-lock\.json is newer/,
    },
    {
      name: 'a deployed dist/ without sources',
      files: { bundle: 200 },
      kind: 'bundle',
      why: /prebuilt bundle/,
    },
    {
      name: `${BUNDLE_ENV}=off bundles at start even with a fresh bundle`,
      files: { sources: 100, bundle: 200 },
      env: { [BUNDLE_ENV]: 'off' },
      kind: 'sources',
      why: /=off/,
    },
  ];
  test.each(cases)('$name', ({ files, env, kind, why }) => {
    const root = layout(files);
    const source = chooseWorkflowSource(ENTRY, env ?? {}, root);
    expect(source.kind).toBe(kind);
    expect(source.why).toMatch(why);
    if (source.kind === 'sources') expect(source.workflowsPath).toBe(ENTRY);
    else expect(source.codePath).toBe(path.join(root, 'dist', 'workflow-bundle.js'));
  });

  test(`${BUNDLE_ENV}=<file> uses that bundle, older sources or not`, () => {
    const root = layout({ sources: 300 });
    const other = path.join(root, 'elsewhere.js');
    writeFileSync(other, '// bundle\n');
    const source = chooseWorkflowSource(ENTRY, { [BUNDLE_ENV]: other }, root);
    expect(source).toMatchObject({ kind: 'bundle', codePath: other });
  });

  test(`${BUNDLE_ENV}=<missing file> is an error naming the variable`, () => {
    const root = layout({ sources: 100 });
    expect(() => chooseWorkflowSource(ENTRY, { [BUNDLE_ENV]: path.join(root, 'nope.js') }, root)).toThrow(
      /ROLLOUT_WORKFLOW_BUNDLE=.*nope\.js: no such file/,
    );
  });
});
