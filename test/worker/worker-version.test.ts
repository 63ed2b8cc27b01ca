import { deploymentOptions } from '../../src/worker-version';

test('the worker joins rollout-orchestrator, version <package version>+<commit>, rollouts pinned', () => {
  expect(deploymentOptions({})).toEqual({
    version: { deploymentName: 'rollout-orchestrator', buildId: expect.stringMatching(/^0\.\d+\.\d+\+([0-9a-f]{12}|local)$/) },
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
