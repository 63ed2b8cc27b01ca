import { spawn } from 'node:child_process';

export interface ShellResult {
  /** `null` when the process was killed by a signal (e.g. after a timeout). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** The last `tailBytes` of stdout and stderr, interleaved as they arrived. */
  output: string;
  /** The last `tailBytes` of stdout alone: what a command prints as its answer (a read's percent). */
  stdout?: string;
  durationMs: number;
}

export interface ShellOptions {
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** How much output to keep (the end of it); defaults to 4 KiB. */
  tailBytes?: number;
  /** Aborting kills the command like a timeout does. */
  signal?: AbortSignal;
}

/**
 * Runs `command` with `/bin/sh -c` in its own process group, so a timeout kills the whole tree
 * (a script's children too), not only the shell.
 *
 * Completion is the shell's exit, not the end of its output: a restart script that starts a
 * server in the background would otherwise keep our pipes open for as long as the server runs.
 * Such scripts should redirect the server's output to a file (`>server.log 2>&1 &`); once the
 * shell exits we stop reading, and a server still writing to our pipe would get EPIPE.
 *
 * Given a list (program and its arguments) instead of a string, runs the program itself, with no
 * shell to read anything in its words (the worker's policy runs plans' commands so).
 */
export function runShell(command: string | readonly string[], options: ShellOptions): Promise<ShellResult> {
  const started = Date.now();
  const tailBytes = options.tailBytes ?? 4096;
  return new Promise((resolve, reject) => {
    let output = Buffer.alloc(0);
    let stdout = Buffer.alloc(0);
    let truncated = false;
    const keep = (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (output.length > tailBytes * 2) {
        output = output.subarray(output.length - tailBytes);
        truncated = true;
      }
    };
    const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv | undefined,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      keep(chunk);
      stdout = Buffer.concat([stdout, chunk]);
      if (stdout.length > tailBytes * 2) stdout = stdout.subarray(stdout.length - tailBytes);
    });
    child.stderr.on('data', keep);

    let timedOut = false;
    let killTimer: NodeJS.Timeout | undefined;
    const killTree = () => {
      const kill = (sig: NodeJS.Signals) => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          // Already gone.
        }
      };
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), 2000);
      killTimer.unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killTree();
    }, options.timeoutMs);
    const onAbort = () => killTree();
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.on('error', (err) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      // Let output already in the pipes arrive, then let go of them (see above).
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        if (killTimer && !timedOut) clearTimeout(killTimer);
        const tail = output.length > tailBytes ? output.subarray(output.length - tailBytes) : output;
        const text = (truncated || tail !== output ? '…' : '') + tail.toString('utf8');
        const out = stdout.length > tailBytes ? stdout.subarray(stdout.length - tailBytes) : stdout;
        resolve({
          exitCode: code,
          signal,
          timedOut,
          output: text,
          stdout: out.toString('utf8'),
          durationMs: Date.now() - started,
        });
      }, 50);
    });
  });
}
