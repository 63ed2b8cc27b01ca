const os = require('node:os');

/**
 * The suites in four projects, by what they start (README, "Tests"):
 *
 * - `unit`: no server of any kind — no Temporal server, no backend, worker or Prometheus process,
 *   no browser. In-process HTTP listeners on 127.0.0.1 (the example backend's app, fake targets)
 *   and short-lived client processes (`npx rollout` without a server, `npm run traffic`) are
 *   allowed. `npm run test:unit` runs this project alone.
 * - `workflows`: the workflow suites on the time-skipping test server (one per suite).
 * - `processes`: real server processes (a dev server, the example backend or orders service as a
 *   process, Prometheus, `npm start`) that do not mind another suite running beside them.
 * - `e2e`: whole rollouts against real processes with real traffic, judged on latencies measured
 *   on this machine: run one at a time (test/helpers/lanes-runner.js), beside the other projects.
 *   The runner also runs a few suites with nothing beside them (its NOTHING_BESIDE list).
 *
 * A new test file lands in `unit` unless it is listed below: list it when it starts a server.
 */
const E2E = [
  '<rootDir>/test/e2e/**/*.test.ts',
  '<rootDir>/test/durability/**/*.test.ts',
  '<rootDir>/test/ui/**/*.browser.test.ts',
];
const WORKFLOWS = [
  'baseline',
  'history-bounds',
  'hostile-payloads',
  'requests-settle',
  'rollback-never-gives-up',
  'rollbacks',
  'seed-plan',
  'signals',
  'start-shares',
  'ui-story',
  'updates',
].map((name) => `<rootDir>/test/workflows/${name}.test.ts`);
const PROCESSES = [
  'cli/cli',
  'notify/notify',
  'providers/metrics/prometheus',
  'providers/metrics/prometheus-opentelemetry',
  'providers/metrics/prometheus-explain',
  'providers/metrics/haproxy-exporter',
  'scripts/npm-start',
  'providers/consistency/sqlite-yaml',
  'providers/traffic/env-file',
  'providers/traffic/haproxy',
  'providers/traffic/nginx',
  'example-backend/config',
  'orders-service/orders-service',
  'worker/pinned-versions',
  'worker/current-version',
].map((name) => `<rootDir>/test/${name}.test.ts`);

/** Glob → regular expression, for `testPathIgnorePatterns` (only `**` and `*` are used above). */
const asPattern = (glob) =>
  glob
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\/\*\*\//g, '/\0')
    .replace(/\*/g, '[^/]*')
    .replace(/\0/g, '(.*/)?') + '$';

const project = (displayName, testMatch, extra = {}) => ({
  displayName,
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch,
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  runner: '<rootDir>/test/helpers/lanes-runner.js',
  ...extra,
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('unit', ['**/*.test.ts'], {
      testPathIgnorePatterns: ['/node_modules/', ...[...E2E, ...WORKFLOWS, ...PROCESSES].map(asPattern)],
    }),
    project('workflows', WORKFLOWS),
    project('processes', PROCESSES),
    project('e2e', E2E),
  ],
  // Workflow and end-to-end suites start real servers; their own timeouts are set per suite.
  testTimeout: 120_000,
  // The workflow code bundled once for the whole run (every suite and worker process loads it).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // Two lanes on a 2-core machine: the e2e suites one at a time, everything else beside them.
  maxWorkers: Math.max(2, os.availableParallelism?.() ?? os.cpus().length),
  verbose: true,
};
