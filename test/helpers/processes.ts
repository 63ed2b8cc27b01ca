import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TEST_POLICY_ENV } from './policy';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * `node` arguments that run a TypeScript entry from the sources, loaded through swc as the CLI
 * loads them (test/helpers/swc-register.js): a worker or a backend process starts in about half
 * the time ts-node's transpile-only mode took.
 */
export function tsEntry(file: string): string[] {
  return ['-r', path.join(__dirname, 'swc-register.js'), path.resolve(ROOT, file)];
}

/** The workflow bundle of this jest run (made once by test/helpers/global-setup.ts), if any. */
function runBundle(): NodeJS.ProcessEnv {
  const file = process.env.ROLLOUT_TEST_WORKFLOW_BUNDLE;
  return file ? { ROLLOUT_WORKFLOW_BUNDLE: file } : {};
}

/** A child process whose output is kept for assertions and failure messages. */
export interface Child {
  proc: ChildProcess;
  output(): string;
  /** Resolves once `pattern` appears in stdout/stderr; rejects on exit or timeout with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = ROOT): Child {
  const proc = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  return {
    proc,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (pattern.test(out)) done(resolve);
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(new Error(`timed out waiting for ${pattern} from ${command}:\n${out.slice(-3000)}`)),
            ),
          timeoutMs,
        );
        const onExit = () =>
          done(() =>
            reject(new Error(`${command} exited (${proc.exitCode}) before ${pattern}:\n${out.slice(-3000)}`)),
          );
        const done = (f: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          proc.off('exit', onExit);
          f();
        };
        listeners.add(check);
        proc.once('exit', onExit);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A rollout worker process (`src/worker.ts`) against the given Temporal address. From the sources
 * it loads the workflow bundle of this jest run (`ROLLOUT_WORKFLOW_BUNDLE`, unless `extraEnv`
 * names another) instead of running webpack at start.
 */
export function startWorkerProcess(
  address: string,
  extraEnv: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
  /** `built`: the compiled worker (`npm run build`'s dist/src/worker.js), as production runs it. */
  from: 'sources' | 'built' = 'sources',
): Child {
  const entry = from === 'built' ? [path.join(ROOT, 'dist/src/worker.js')] : tsEntry('src/worker.ts');
  return startProcess(
    process.execPath,
    [...nodeArgs, ...entry],
    {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: 'default',
      ROLLOUT_HEARTBEAT_THROTTLE: '250ms',
      // The tests' targets keep their stores in temporary directories: the worker's policy allows them.
      ...TEST_POLICY_ENV,
      ...(from === 'sources' ? runBundle() : {}),
      ...extraEnv,
    },
  );
}

/** The example backend as its own process (`npm run backend`). */
export function startBackendProcess(port: number, dataDir: string, extraEnv: NodeJS.ProcessEnv = {}): Child {
  return startProcess(
    process.execPath,
    tsEntry('example-backend/server.ts'),
    { ...process.env, PORT: String(port), DATA_DIR: dataDir, ...extraEnv },
  );
}

/** A port free now (the worker's own helper, for Core's metrics exporter). */
export { freeLocalPort as freePort } from '../../src/worker-metrics';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), `rollout-${prefix}-`));
}
