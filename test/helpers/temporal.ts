import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { registerSearchAttributes } from '../../src/client/search-attributes';
import { rolloutPercentKey, rolloutPhaseKey, rolloutStateKey, rolloutTargetKey } from '../../src/contracts/definitions';

// Plain JS so `npm test` can install the binaries before TypeScript is involved.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const binaries = require('../../scripts/temporal-binaries') as { ensure(kind: 'cli' | 'testServer'): string };

export const SEARCH_ATTRIBUTE_KEYS = [rolloutStateKey, rolloutPhaseKey, rolloutPercentKey, rolloutTargetKey];

/** The time-skipping test server, from the local binary (never downloaded). */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: binaries.ensure('testServer') } },
  });
  await registerSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** The dev server (`temporal server start-dev`), its state in `dbFilename` when given; its Web UI on `uiPort`. */
export function createDevServerEnv(dbFilename?: string, uiPort?: number): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binaries.ensure('cli') },
      dbFilename,
      ip: '127.0.0.1',
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      ...(uiPort ? { ui: true, uiPort } : {}),
    },
  });
}

/**
 * Environment variable: the workflow bundle jest's global setup made for this run
 * (test/helpers/global-setup.ts). Suites and the worker processes they start load it instead of
 * bundling the workflow code again.
 */
export const TEST_BUNDLE_ENV = 'ROLLOUT_TEST_WORKFLOW_BUNDLE';

let bundle: Promise<WorkflowBundleOption> | undefined;
/**
 * The workflow code for an in-process worker: the run's bundle from jest's global setup, or
 * (outside jest) bundled once per test file (jest gives each file its own module registry).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const prebuilt = process.env[TEST_BUNDLE_ENV];
  bundle ??= prebuilt
    ? Promise.resolve({ codePath: prebuilt })
    : bundleWorkflowCode({
        workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
        logger: quietLogger,
      });
  return bundle;
}

/** The workflow bundle as a file, for worker processes (`ROLLOUT_WORKFLOW_BUNDLE`). */
export async function workflowBundleFile(): Promise<string> {
  const prebuilt = process.env[TEST_BUNDLE_ENV];
  if (prebuilt) return prebuilt;
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.resolve(__dirname, '../../src/workflows/index.ts'),
    logger: quietLogger,
  });
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'rollout-bundle-')), 'workflow-bundle.js');
  writeFileSync(file, code);
  return file;
}

export const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
};

/**
 * One time-skipping server per test file: started before the first test, stopped after the last.
 * Returns a getter, since the server exists only once `beforeAll` has run.
 */
export function useTimeSkippingEnv(): () => TestWorkflowEnvironment {
  let env: TestWorkflowEnvironment | undefined;
  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });
  return () => env!;
}

/** Polls `fn` every 250 ms until it gives a value (errors count as none); fails after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
