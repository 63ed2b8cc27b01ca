import type { TrafficConfig } from '../../plan/schema';
import type { TrafficState } from '../../contracts/traffic';
import { messageOf, permanent, sleep } from '../errors';
import { durationMs } from '../settings';
import { commandFailure, fill, parseReadOutput, shownArgv, type RunArgv } from './argv';
import type { TrafficProvider } from './traffic-provider';

export type CommandTrafficConfig = Extract<TrafficConfig, { type: 'command' }>;

/** Pause between read-backs while a router takes a change in (Traefik's file watcher, a flag service's cache). */
const READ_BACK_EVERY_MS = 250;
/** Values a read may print for a percent just set: routers that keep weights print rounded shares. */
const PERCENT_TOLERANCE = 0.01;

export interface CommandTrafficOptions {
  runArgv: RunArgv;
  onProgress?: (message: string) => void;
}

/**
 * For any router with a command line or an API a script can call (Envoy's runtime, Traefik's file
 * provider, a feature-flag service): `set` changes one group, `read` prints what is in force. A set
 * is confirmed only once `read` reports the new percent, within `timeout`.
 */
export class CommandTrafficProvider implements TrafficProvider {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly timeoutMs: number;
  /** Groups asked about so far: a kill switch moves each of them to 0. */
  private readonly known = new Set<string>();

  constructor(
    private readonly config: CommandTrafficConfig,
    private readonly options: CommandTrafficOptions,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.traffic.timeout', '30s');
  }

  get(groups: string[] = []): Promise<TrafficState> {
    for (const g of groups) this.known.add(g);
    return readPercents(this.config.read, [...this.known], this.options.runArgv, {
      where: 'target.traffic.read',
      timeoutMs: this.timeoutMs,
    });
  }

  setPercent(group: string, percent: number): Promise<TrafficState> {
    if (!(percent >= 0 && percent <= 100))
      return Promise.reject(permanent(`percent for group ${group} must be 0..100, got ${percent}`));
    this.known.add(group);
    return this.serialised(() => this.set(group, percent));
  }

  /**
   * A command router has no switch of its own: off moves every group asked about to 0% (and reads
   * `useDomainService` from `read` when it prints one); on changes nothing, the next step sets its
   * percent.
   */
  setKillSwitch(useDomainService: boolean): Promise<TrafficState> {
    if (useDomainService) return this.get();
    return this.serialised(async () => {
      for (const group of this.known) await this.set(group, 0);
      return this.get();
    });
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async set(group: string, percent: number): Promise<TrafficState> {
    const argv = fill(this.config.set, { group, percent: String(percent) });
    this.options.onProgress?.(`running ${shownArgv(argv)}`);
    const res = await this.options.runArgv(argv, 'target.traffic.set', { timeoutMs: this.timeoutMs });
    if (res.exitCode !== 0) throw commandFailure('set command', argv, res, this.timeoutMs);
    return confirm(group, percent, this.timeoutMs, () => this.get([group]), this.options.onProgress);
  }
}

/**
 * Reads the state back until `group` is at `percent`, within `timeoutMs`: a router may take a
 * change in a moment after the command that made it returned. The last read's state or error is
 * what the failure names.
 */
export async function confirm(
  group: string,
  percent: number,
  timeoutMs: number,
  read: () => Promise<TrafficState>,
  onProgress?: (message: string) => void,
): Promise<TrafficState> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let attempt = 0; ; attempt++) {
    try {
      const state = await read();
      // The group's own percent: a kill switch that is off is the switch's business, not the set's.
      const now = state.groups[group]?.percent;
      if (now !== undefined && Math.abs(now - percent) <= PERCENT_TOLERANCE) return state;
      last = now === undefined ? `group ${group} not reported` : `group ${group} at ${now}%`;
    } catch (err) {
      // A read that cannot be parsed or is refused will not get better by waiting.
      if ((err as { nonRetryable?: boolean }).nonRetryable) throw err;
      last = messageOf(err);
    }
    if (Date.now() >= deadline) break;
    if (attempt % 8 === 7) onProgress?.(`waiting for ${group} to read ${percent}%: ${last}`);
    await sleep(Math.min(READ_BACK_EVERY_MS, Math.max(0, deadline - Date.now())));
  }
  throw new Error(`set ${group} to ${percent}%, but the read-back still shows ${last} after ${timeoutMs}ms`);
}

/**
 * Runs a read command for `groups`: once per group when it takes `{group}` (each prints that
 * group's percent, or `group=percent` lines), else once for all (printing `group=percent` lines).
 * A group asked about and not printed is an error.
 */
export async function readPercents(
  read: readonly string[],
  groups: string[],
  runArgv: RunArgv,
  { where, timeoutMs }: { where: string; timeoutMs: number },
): Promise<TrafficState> {
  const state: TrafficState = { useDomainService: true, groups: {} };
  const perGroup = read.some((w) => w.includes('{group}'));
  const runs = perGroup ? groups.map((g) => ({ group: g as string | undefined, argv: fill(read, { group: g }) })) : [{ group: undefined, argv: [...read] }];
  for (const { group, argv } of runs) {
    const res = await runArgv(argv, where, { timeoutMs });
    if (res.exitCode !== 0) throw commandFailure('read command', argv, res, timeoutMs);
    const out = parseReadOutput(res.stdout ?? res.output, `read command (${shownArgv(argv)})`);
    if (out.single !== undefined) {
      const only = group ?? (groups.length === 1 ? groups[0] : undefined);
      if (only === undefined)
        throw permanent(
          `read command (${shownArgv(argv)}) printed one number, but it runs once for groups ${groups.join(', ') || '(none)'}: pass {group} to it, or print group=percent lines`,
        );
      state.groups[only] = { percent: out.single };
    }
    for (const [g, percent] of Object.entries(out.groups)) state.groups[g] = { percent };
    if (out.useDomainService === false) state.useDomainService = false;
  }
  const missing = groups.filter((g) => !state.groups[g]);
  if (missing.length)
    throw new Error(`${where}: the read command did not print group ${missing.join(', ')}`);
  return state;
}
