import { permanent } from '../errors';
import { runShell, type ShellResult } from '../shell';
import type { Env } from '../settings';

/**
 * Commands given as lists (the `command` provider's `set`/`read`, nginx's test and reload, the
 * env-file `readCommand`), and the text a read command prints. Shared by those providers.
 */

/** Runs a program with its words (no shell); `where` names the plan field, for refusals. */
export type RunArgv = (argv: readonly string[], where: string, options: { timeoutMs: number }) => Promise<ShellResult>;

/** Without the worker's policy (tests, `readShares` given no policy): the program as given. */
export function plainRunArgv(env: Env): RunArgv {
  return (argv, _where, { timeoutMs }) => runShell(argv, { timeoutMs, env, tailBytes: OUTPUT_TAIL_BYTES });
}

/**
 * A program that cannot be started at all (no such file, not executable) is a spawn error, not an
 * exit code, when no shell stands between: it becomes the same permanent failure as a shell's 127.
 */
export function guarded(run: RunArgv): RunArgv {
  return async (argv, where, options) => {
    try {
      return await run(argv, where, options);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES')
        throw permanent(`${where}: cannot run ${shownArgv(argv)}: ${code === 'ENOENT' ? 'no such program' : 'not executable'}`);
      throw err;
    }
  };
}

/** Only this much of a command's output is kept (its end); a read prints a line or a few. */
export const OUTPUT_TAIL_BYTES = 16 * 1024;

/**
 * Fills `{name}` placeholders inside each word. A value replaces text within one argument and
 * never becomes more arguments or shell syntax: there is no shell to read it.
 */
export function fill(argv: readonly string[], values: Record<string, string>): string[] {
  return argv.map((word) =>
    word.replace(/\{([a-z]+)\}/g, (all, name: string) => (Object.hasOwn(values, name) ? values[name] : all)),
  );
}

/** How a command is shown in messages: its words, JSON-quoted when they need it. */
export function shownArgv(argv: readonly string[]): string {
  return argv.map((w) => (/^[A-Za-z0-9_./:=,@%+{}-]+$/.test(w) ? w : JSON.stringify(w))).join(' ');
}

/**
 * Turns a command that did not exit 0 into the error it is. 126/127 (not executable, not found)
 * and 64 (EX_USAGE: the script says its arguments are wrong, e.g. a group it does not know) are
 * permanent, as a retry meets the same thing; any other exit and a timeout are retried.
 */
export function commandFailure(what: string, argv: readonly string[], res: ShellResult, timeoutMs: number): Error {
  const why = res.timedOut ? `timed out after ${timeoutMs}ms` : `exited with ${res.exitCode ?? res.signal}`;
  const text = `${what} (${shownArgv(argv)}) ${why}: ${res.output.trim().slice(-1000) || '(no output)'}`;
  if (!res.timedOut && (res.exitCode === 126 || res.exitCode === 127 || res.exitCode === 64)) return permanent(text);
  return new Error(text);
}

/** What a read command said: percents by group, and the kill switch when it names one. */
export interface ReadOutput {
  /** A bare number: the percent of the one group the command was run for. */
  single?: number;
  groups: Record<string, number>;
  useDomainService?: boolean;
}

const PERCENT = /^(?:\d{1,3}(?:\.\d+)?|\.\d+)%?$/;

function percentOf(text: string): number | undefined {
  if (!PERCENT.test(text)) return undefined;
  const n = Number(text.replace(/%$/, ''));
  return n >= 0 && n <= 100 ? n : undefined;
}

/**
 * A read command's output: one percent (`25`, `25%`), or lines `group=percent`, with an optional
 * `useDomainService=true|false`. Blank lines and `#` comments are skipped; anything else is an
 * error quoting the line, since a state guessed from garbage could confirm a rollback that did not
 * happen.
 */
export function parseReadOutput(output: string, where: string): ReadOutput {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new Error(`${where}: printed nothing (expected a percent, or group=percent lines)`);
  const out: ReadOutput = { groups: {} };
  if (lines.length === 1 && !lines[0].includes('=')) {
    const single = percentOf(lines[0]);
    if (single === undefined)
      throw new Error(`${where}: ${JSON.stringify(lines[0].slice(0, 200))} is not a percent (0..100)`);
    out.single = single;
    return out;
  }
  for (const line of lines) {
    const m = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(\S+)$/.exec(line);
    if (!m) throw new Error(`${where}: cannot read ${JSON.stringify(line.slice(0, 200))} (expected group=percent)`);
    const [, key, value] = m;
    if (key === 'useDomainService') {
      if (value !== 'true' && value !== 'false')
        throw new Error(`${where}: useDomainService=${value.slice(0, 50)} is not true or false`);
      out.useDomainService = value === 'true';
      continue;
    }
    const percent = percentOf(value);
    if (percent === undefined)
      throw new Error(`${where}: ${key}=${value.slice(0, 50)} is not a percent (0..100)`);
    if (Object.hasOwn(out.groups, key)) throw new Error(`${where}: group ${key} printed twice`);
    out.groups[key] = percent;
  }
  return out;
}
