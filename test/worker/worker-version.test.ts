import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deploymentOptions, makeCurrentWanted } from '../../src/worker-version';

test('the worker joins rollout-orchestrator, version <package version>+<commit>, rollouts pinned', () => {
  expect(deploymentOptions({})).toEqual({
    version: { deploymentName: 'rollout-orchestrator', buildId: expect.stringMatching(/^0\.\d+\.\d+\+[0-9a-f]{12}$/) },
    useWorkerVersioning: true,
    defaultVersioningBehavior: 'PINNED',
  });
});

test.each([
  [{ ROLLOUT_BUILD_ID: '2.3.0+hotfix-1' }, '2.3.0+hotfix-1'],
  [{ ROLLOUT_WORKER_VERSIONING: 'off' }, undefined],
])('%j', (env, buildId) => {
  expect(deploymentOptions(env)?.version.buildId).toBe(buildId);
});

test.each([
  [{ ROLLOUT_BUILD_ID: 'a b' }, /ROLLOUT_BUILD_ID: letters, digits/],
  [{ ROLLOUT_BUILD_ID: '' }, /ROLLOUT_BUILD_ID/],
  [{ ROLLOUT_WORKER_VERSIONING: 'maybe' }, /ROLLOUT_WORKER_VERSIONING: .*"on".*"off"/],
])('%j is refused, naming the variable', (env, message) => {
  expect(() => deploymentOptions(env)).toThrow(message);
});

describe('a build without a commit (no git checkout, no dist/build-commit)', () => {
  // A copy of the package outside any git work tree: its commit cannot be known.
  const root = mkdtempSync(path.join(tmpdir(), 'rollout-no-commit-'));
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'rollout-orchestrator', version: '0.2.0' }));

  test('refuses to start versioned, saying what to set (every such build would share one id and pin nothing)', () => {
    expect(() => deploymentOptions({}, root)).toThrow(
      /no commit to name its version by .*set ROLLOUT_BUILD_ID .*ROLLOUT_BUILD_ID=0\.2\.0\+<your release>.*ROLLOUT_WORKER_VERSIONING=off/,
    );
  });

  test('starts versioned with the build id it is given', () => {
    expect(deploymentOptions({ ROLLOUT_BUILD_ID: '0.2.0+release-7' }, root)?.version).toEqual({
      deploymentName: 'rollout-orchestrator',
      buildId: '0.2.0+release-7',
    });
  });

  test('runs unversioned with ROLLOUT_WORKER_VERSIONING=off', () => {
    expect(deploymentOptions({ ROLLOUT_WORKER_VERSIONING: 'off' }, root)).toBeUndefined();
  });
});

test.each([
  [{}, false],
  [{ ROLLOUT_MAKE_CURRENT: '1' }, true],
  [{ ROLLOUT_MAKE_CURRENT: 'true' }, true],
  [{ ROLLOUT_MAKE_CURRENT: '0' }, false],
])('ROLLOUT_MAKE_CURRENT %j → %s', (env, wanted) => {
  expect(makeCurrentWanted(env)).toBe(wanted);
});

test('ROLLOUT_MAKE_CURRENT=maybe is refused, naming it', () => {
  expect(() => makeCurrentWanted({ ROLLOUT_MAKE_CURRENT: 'maybe' })).toThrow(/ROLLOUT_MAKE_CURRENT/);
});
