import { randomBytes } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';
import axios from 'axios';
import { z } from 'zod';
import type { TrafficConfig } from '../../plan/schema';
import type { TrafficState } from '../../contracts/traffic';
import { MiB, bounded, messageOf, permanent, sleep, type HttpLimits } from '../errors';
import { durationMs, type Env } from '../settings';
import { runShell, type ShellResult } from '../shell';
import { plainRunArgv, type RunArgv } from './argv';
import { confirm, readPercents } from './command';
import type { TrafficProvider } from './traffic-provider';

export type EnvFileTrafficConfig = Extract<TrafficConfig, { type: 'env-file' }>;

/** One health check's total deadline; `healthTimeout` bounds the whole wait for health. */
const HEALTH_DEADLINE_MS = 2000;
/** The shortest health check, so the wait's final one is not starved (it may pass `healthTimeout` by this). */
const HEALTH_LAST_TRY_MS = 250;
/** Only a health check's status counts; a body past this is cut off (and the check fails). */
const HEALTH_MAX_BYTES = MiB;

export interface EnvFileOptions {
  /** Environment of the restart command (the worker's own, by default). */
  env?: Env;
  /**
   * Runs the restart command instead of `runShell` (the worker passes its policy's: the command
   * checked, run with a minimal environment, its output redacted).
   */
  runCommand?: (command: string, options: { timeoutMs: number }) => Promise<ShellResult>;
  /** Runs `readCommand` (the worker passes its policy's; the program as given otherwise). */
  runArgv?: RunArgv;
  /** Called while waiting, so an activity can heartbeat through a slow restart. */
  onProgress?: (message: string) => void;
}

/** `KEY=value`, `export KEY="value"  # comment`. */
const ASSIGNMENT = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$/;

interface Assignment {
  value: string;
  line: number;
}

/** Splits a value part into the value and what follows it (quotes kept aside, trailing comment kept). */
function splitValue(rest: string): { quote: string; value: string; after: string } {
  const q = rest[0];
  if (q === '"' || q === "'") {
    const end = rest.indexOf(q, 1);
    if (end > 0) return { quote: q, value: rest.slice(1, end), after: rest.slice(end + 1) };
  }
  const comment = rest.search(/\s+#/);
  if (comment >= 0) return { quote: '', value: rest.slice(0, comment), after: rest.slice(comment) };
  return { quote: '', value: rest.trimEnd(), after: rest.slice(rest.trimEnd().length) };
}

/** Every assignment in an env file; the last one of a key wins, as in a shell. */
export function parseEnvFile(text: string): Map<string, Assignment> {
  const vars = new Map<string, Assignment>();
  text.split('\n').forEach((raw, i) => {
    const m = ASSIGNMENT.exec(raw.replace(/\r$/, ''));
    if (!m || raw.trimStart().startsWith('#')) return;
    vars.set(m[2], { value: splitValue(m[4]).value, line: i + 1 });
  });
  return vars;
}

/**
 * Sets variables in env-file text, keeping everything else as it was: comments, blank lines,
 * other variables, `export` prefixes, quoting and trailing comments. A variable not in the file
 * is appended.
 */
export function updateEnvFile(text: string, values: Record<string, string>): string {
  const pending = new Map(Object.entries(values));
  const lines = text.split('\n').map((raw) => {
    const cr = raw.endsWith('\r') ? '\r' : '';
    const m = ASSIGNMENT.exec(cr ? raw.slice(0, -1) : raw);
    if (!m || raw.trimStart().startsWith('#') || !values.hasOwnProperty(m[2])) return raw;
    pending.delete(m[2]);
    const { quote, after } = splitValue(m[4]);
    return `${m[1]}${m[2]}${m[3]}${quote}${values[m[2]]}${quote}${after}${cr}`;
  });
  if (pending.size) {
    // Append before the final newline, if any, so the file keeps ending with one.
    const tail = lines[lines.length - 1] === '' ? lines.pop() : undefined;
    for (const [k, v] of pending) lines.push(`${k}=${v}`);
    if (tail !== undefined) lines.push(tail);
  }
  return lines.join('\n');
}

const percentValue = z.coerce.number().min(0, 'must be 0..100').max(100, 'must be 0..100');
const boolValue = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', '']))
  .transform((v) => ['true', '1', 'yes', 'on'].includes(v));

/**
 * For targets switched by environment variables at start (the seed's `USE_DOMAIN_SERVICE` and
 * `ROLLOUT_PERCENT`): rewrites the variables in an env file, runs the restart command, and waits
 * until the health URL answers 2xx. `get()` reads the file back, since that is all it can see.
 */
export class EnvFileTrafficProvider implements TrafficProvider {
  /** Changes are serialised: two restarts racing over one file would lose a change. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly healthTimeoutMs: number;
  /** Groups this provider has been asked about; an env file cannot list them itself. */
  private readonly known = new Set<string>();
  /** File content that a restart of ours has put into force. */
  private applied: string | undefined;

  constructor(
    private readonly config: EnvFileTrafficConfig,
    private readonly options: EnvFileOptions = {},
  ) {
    this.healthTimeoutMs = durationMs(config.healthTimeout, 'target.traffic.healthTimeout', '60s');
    for (const g of Object.keys(config.variables ?? {})) this.known.add(g);
  }

  /** The variable carrying a group's percent. */
  variableFor(group: string): string {
    return this.config.variables?.[group] ?? this.config.percentVariable ?? 'ROLLOUT_PERCENT';
  }

  private get killSwitch(): string {
    return this.config.killSwitchVariable ?? 'USE_DOMAIN_SERVICE';
  }

  async get(groups: string[] = []): Promise<TrafficState> {
    for (const g of groups) this.known.add(g);
    const fromFile = await this.readFile();
    if (!this.config.readCommand) return fromFile;
    // The target's own word on what it runs with; the kill switch from the file unless it says.
    const said = await readPercents(
      this.config.readCommand,
      [...this.known],
      this.options.runArgv ?? plainRunArgv(this.options.env ?? process.env),
      { where: 'target.traffic.readCommand', timeoutMs: this.healthTimeoutMs },
    );
    return { ...said, useDomainService: fromFile.useDomainService && said.useDomainService };
  }

  private async readFile(): Promise<TrafficState> {
    const vars = parseEnvFile(await this.read());
    const where = (a: Assignment) => `${this.config.path}:${a.line}`;
    const sw = vars.get(this.killSwitch);
    // An absent switch leaves the percents in charge, as the example backend reads it.
    let useDomainService = true;
    if (sw && sw.value.trim() !== '') {
      const parsed = boolValue.safeParse(sw.value);
      if (!parsed.success)
        throw permanent(`${where(sw)}: ${this.killSwitch}=${sw.value} is not true or false`);
      useDomainService = parsed.data;
    }
    const state: TrafficState = { useDomainService, groups: {} };
    for (const group of this.known) {
      // A group's own variable falls back to the shared one when absent, as the backend reads them.
      const own = vars.get(this.variableFor(group));
      const found = own ?? vars.get(this.config.percentVariable ?? 'ROLLOUT_PERCENT');
      let percent = 0;
      if (found) {
        const parsed = percentValue.safeParse(found.value === '' ? 0 : found.value);
        if (!parsed.success)
          throw permanent(`${where(found)}: ${JSON.stringify(found.value)} is not a percent (0..100)`);
        percent = parsed.data;
      }
      state.groups[group] = { percent };
    }
    return state;
  }

  setPercent(group: string, percent: number): Promise<TrafficState> {
    if (!(percent >= 0 && percent <= 100))
      return Promise.reject(permanent(`percent for group ${group} must be 0..100, got ${percent}`));
    this.known.add(group);
    return this.change({ [this.variableFor(group)]: String(percent) }, group, percent);
  }

  setKillSwitch(useDomainService: boolean): Promise<TrafficState> {
    return this.change({ [this.killSwitch]: String(useDomainService) });
  }

  /** With `readCommand`, a change is confirmed once the target reports the group's new percent. */
  private change(values: Record<string, string>, group?: string, percent?: number): Promise<TrafficState> {
    const run = this.queue.then(async () => {
      const before = await this.read();
      const after = updateEnvFile(before, values);
      if (after !== before) await this.write(after);
      // Restart unless this very content was already applied by us and the target is up. An
      // unchanged file alone proves nothing: an earlier attempt may have written it and then
      // failed to restart, leaving the old values running.
      if (after !== this.applied || !(await this.healthy())) {
        await this.restart();
        await this.waitHealthy();
        this.applied = after;
      }
      if (this.config.readCommand && group !== undefined && percent !== undefined)
        return confirm(group, percent, this.healthTimeoutMs, () => this.get(), this.options.onProgress);
      return this.get();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<string> {
    try {
      return await readFile(this.config.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw permanent(`env file ${this.config.path} does not exist (target.traffic.path)`);
      }
      throw err;
    }
  }

  /** Write-then-rename, so the restarting target never reads half a file. */
  private async write(text: string): Promise<void> {
    const tmp = join(
      dirname(this.config.path),
      `.${basename(this.config.path)}.${randomBytes(4).toString('hex')}.tmp`,
    );
    const mode = (await stat(this.config.path)).mode & 0o777;
    await writeFile(tmp, text, { mode });
    await rename(tmp, this.config.path);
  }

  private async restart(): Promise<void> {
    this.options.onProgress?.(`running restart command`);
    const res = this.options.runCommand
      ? await this.options.runCommand(this.config.restartCommand, { timeoutMs: this.healthTimeoutMs })
      : await runShell(this.config.restartCommand, {
          timeoutMs: this.healthTimeoutMs,
          env: this.options.env ?? process.env,
        });
    if (res.exitCode === 0) return;
    const why = res.timedOut
      ? `timed out after ${this.healthTimeoutMs}ms`
      : `exited with ${res.exitCode ?? res.signal}`;
    const text = `restart command ${JSON.stringify(this.config.restartCommand)} ${why}: ${res.output.trim().slice(-1000)}`;
    // 126/127: not executable / not found. A retry will find the same thing.
    if (res.exitCode === 126 || res.exitCode === 127) throw permanent(text);
    throw new Error(text);
  }

  /** One health check: a total deadline and a body cap (only the status is read). */
  private healthLimits(deadlineMs: number): HttpLimits {
    return { what: `health check ${this.config.healthUrl}`, deadlineMs, maxBytes: HEALTH_MAX_BYTES };
  }

  private async healthy(): Promise<boolean> {
    try {
      const res = await bounded(this.healthLimits(HEALTH_DEADLINE_MS), (bounds) =>
        axios.get(this.config.healthUrl, { ...bounds, validateStatus: () => true }),
      );
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.healthTimeoutMs;
    let last = 'no answer yet';
    for (let attempt = 0; ; attempt++) {
      try {
        // The last try, at the deadline, still gets a moment to be refused or answered.
        const left = Math.max(HEALTH_LAST_TRY_MS, deadline - Date.now());
        const res = await bounded(this.healthLimits(Math.min(HEALTH_DEADLINE_MS, left)), (bounds) =>
          axios.get(this.config.healthUrl, { ...bounds, validateStatus: () => true }),
        );
        if (res.status >= 200 && res.status < 300) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = messageOf(err);
      }
      if (Date.now() >= deadline) break;
      if (attempt % 4 === 0) this.options.onProgress?.(`waiting for ${this.config.healthUrl}: ${last}`);
      await sleep(Math.min(250 * 2 ** Math.min(attempt, 2), Math.max(0, deadline - Date.now())));
    }
    throw new Error(
      `${this.config.healthUrl} not healthy ${this.healthTimeoutMs}ms after the restart: ${last}`,
    );
  }
}
