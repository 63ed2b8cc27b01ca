import { CliError, EXIT } from './errors';

/** Output of a command; tests and the demo read stdout, errors go to stderr. */
export const out = {
  line(text = ''): void {
    process.stdout.write(`${text}\n`);
  },
  error(text: string): void {
    process.stderr.write(`${text}\n`);
  },
};

/**
 * Wraps a commander action: a `CliError` is printed as one line (plus its details) and becomes
 * the exit code; anything unexpected is printed the same way with exit code 1, never a stack
 * trace (set ROLLOUT_DEBUG=1 to see it).
 */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<number | void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT.ok;
    } catch (err) {
      if (process.env.ROLLOUT_DEBUG) console.error(err);
      const e =
        err instanceof CliError ? err : new CliError(err instanceof Error ? err.message : String(err));
      out.error(`rollout: ${e.message}`);
      for (const d of e.details) out.error(d);
      process.exitCode = e.code;
    }
  };
}
