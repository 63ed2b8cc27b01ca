import { createWorkerMetrics, metricsAddress } from '../../src/worker-metrics';

test.each([
  [undefined, null],
  ['', null],
  ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
  ['[::1]:9464', { host: '::1', port: 9464 }],
  ['localhost:0', { host: 'localhost', port: 0 }],
])('ROLLOUT_METRICS_ADDRESS=%p → %p', (text, expected) => {
  expect(metricsAddress({ ROLLOUT_METRICS_ADDRESS: text })).toEqual(expected);
});

test.each(['9464', '127.0.0.1', '127.0.0.1:99999', 'http://127.0.0.1:9464'])('ROLLOUT_METRICS_ADDRESS=%p is refused naming the variable', (text) => {
  expect(() => metricsAddress({ ROLLOUT_METRICS_ADDRESS: text })).toThrow(/^ROLLOUT_METRICS_ADDRESS: must be host:port/);
});

test('what the activities report becomes the metrics: percent per target and group, rollbacks by trigger with their time, checks by verdict', async () => {
  const { recorder, registry } = createWorkerMetrics(null);
  recorder.percentApplied('camera-api', 'read', 25);
  recorder.checked('read', 'pass');
  recorder.checked('read', 'pass');
  recorder.metricsSourceError();
  recorder.rolledBack('camera-api', 'write', 'errorRate', 2.5);
  recorder.rolledBack('camera-api', 'write', 'manual', null);
  const text = await registry.metrics();
  expect(text).toMatch(/^rollout_orchestrator_percent\{target="camera-api",group="read"\} 25$/m);
  expect(text).toMatch(/^rollout_orchestrator_percent\{target="camera-api",group="write"\} 0$/m);
  expect(text).toMatch(/^rollout_orchestrator_checks_total\{group="read",verdict="pass"\} 2$/m);
  expect(text).toMatch(/^rollout_orchestrator_metrics_source_errors_total 1$/m);
  expect(text).toMatch(/^rollout_orchestrator_rollbacks_total\{trigger="errorRate"\} 1$/m);
  expect(text).toMatch(/^rollout_orchestrator_rollbacks_total\{trigger="manual"\} 1$/m);
  // A manual rollback without a time is counted but not timed.
  expect(text).toMatch(/^rollout_orchestrator_rollback_seconds_bucket\{le="3",trigger="errorRate"\} 1$/m);
  expect(text).not.toMatch(/rollback_seconds_count\{trigger="manual"\}/);
  // No client: no count of rollouts by state.
  expect(text).not.toMatch(/^rollout_orchestrator_rollouts/m);
});
