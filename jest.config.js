/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Workflow and end-to-end suites start real servers; their own timeouts are set per suite.
  testTimeout: 120_000,
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  // The workflow code bundled once for the whole run (every suite and worker process loads it).
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  verbose: true,
};
