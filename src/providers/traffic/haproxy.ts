import net from 'node:net';
import type { TrafficConfig } from '../../plan/schema';
import type { TrafficState } from '../../contracts/traffic';
import { formatLimit } from '../../plan/duration';
import { MiB, formatBytes, messageOf, permanent } from '../errors';
import { durationMs } from '../settings';
import { confirm } from './command';
import type { TrafficProvider } from './traffic-provider';

export type HaproxyTrafficConfig = Extract<TrafficConfig, { type: 'haproxy' }>;

/** The most of one Runtime API answer read; `show servers state` of a few backends is a few KiB. */
export const RUNTIME_MAX_BYTES = MiB;

/** One row of `show servers state`: the columns this provider reads. */
export interface ServerState {
  backend: string;
  server: string;
  /** `srv_op_state`: 0 stopped (down), 1 starting, 2 running, 3 stopping. */
  opState: number;
  /** `srv_admin_state`: a mask of maintenance (0x01, 0x02, 0x04, 0x20) and drain (0x08, 0x10) flags. */
  adminState: number;
  /** `srv_uweight`: the weight `set server … weight` sets. */
  weight: number;
}

/** Maintenance, forced or inherited or from the config, and drain: no new requests either way. */
const NOT_SERVING_ADMIN = 0x01 | 0x02 | 0x04 | 0x20 | 0x08 | 0x10;
const COLUMNS = ['be_name', 'srv_name', 'srv_op_state', 'srv_admin_state', 'srv_uweight'] as const;

/**
 * `show servers state [<backend>]` as HAProxy 2.x prints it: a format version line (`1`), a
 * `# be_id be_name …` header naming the columns, then one row per server; several commands joined
 * with `;` repeat the three. Columns are found by the header's names, not by position.
 */
export function parseServersState(text: string, where: string): ServerState[] {
  const out: ServerState[] = [];
  let index: Record<(typeof COLUMNS)[number], number> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (/^\d+$/.test(line)) {
      if (line !== '1') throw new Error(`${where}: show servers state format ${line} is not supported (only 1)`);
      index = undefined;
      continue;
    }
    if (line.startsWith('#')) {
      const names = line.slice(1).trim().split(/\s+/);
      const found = Object.fromEntries(COLUMNS.map((c) => [c, names.indexOf(c)]));
      const missing = COLUMNS.filter((c) => found[c] < 0);
      if (missing.length) throw new Error(`${where}: show servers state has no column ${missing.join(', ')}`);
      index = found as typeof index;
      continue;
    }
    if (!index) throw new Error(`${where}: unexpected answer ${JSON.stringify(line.slice(0, 200))}`);
    const cells = line.split(/\s+/);
    const int = (c: (typeof COLUMNS)[number]) => {
      const v = cells[index![c]];
      if (v === undefined || !/^\d+$/.test(v))
        throw new Error(`${where}: ${c} is ${JSON.stringify(v ?? '(missing)')} in ${JSON.stringify(line.slice(0, 200))}`);
      return Number(v);
    };
    out.push({
      backend: cells[index.be_name],
      server: cells[index.srv_name],
      opState: int('srv_op_state'),
      adminState: int('srv_admin_state'),
      weight: int('srv_uweight'),
    });
  }
  return out;
}

/** The weight a server really gets: 0 when it is down, stopping, in maintenance or draining. */
export function servingWeight(s: ServerState): number {
  if (s.opState === 0 || s.opState === 3 || (s.adminState & NOT_SERVING_ADMIN) !== 0) return 0;
  return s.weight;
}

/** The domain's share of a legacy/domain pair, to 0.01%; 0 when neither serves. */
export function sharePercent(legacy: ServerState, domain: ServerState): number {
  const l = servingWeight(legacy);
  const d = servingWeight(domain);
  return l + d === 0 ? 0 : Math.round((10_000 * d) / (l + d)) / 100;
}

/** Answers that no retry changes: a name the plan got wrong, a socket without `level admin`. */
const PERMANENT_ANSWER = /No such (backend|server)|Can't find backend|Require 'backend\/server'|Permission denied|Unknown command/i;

/**
 * Moves traffic with HAProxy's Runtime API: each group is a backend with a legacy and a domain
 * server, weighted `100 - percent` and `percent`, and read back with `show servers state`.
 */
export class HaproxyTrafficProvider implements TrafficProvider {
  private readonly timeoutMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly config: HaproxyTrafficConfig) {
    this.timeoutMs = durationMs(config.timeout, 'target.traffic.timeout', '5s');
  }

  async get(): Promise<TrafficState> {
    const backends = [...new Set(Object.values(this.config.groups).map((g) => g.backend))];
    const answer = await this.ask(backends.map((b) => `show servers state ${b}`).join(';'));
    if (/Can't find backend/i.test(answer)) {
      const rows = parseServersState(answer.replace(/^.*Can't find backend.*$/gim, ''), this.where);
      const missing = backends.filter((b) => !rows.some((r) => r.backend === b));
      throw permanent(`${this.where} has no backend ${missing.join(', ')} (target.traffic.groups)`);
    }
    const rows = parseServersState(answer, this.where);
    const state: TrafficState = { useDomainService: true, groups: {} };
    for (const [group, g] of Object.entries(this.config.groups)) {
      const find = (side: 'legacy' | 'domain') => {
        const row = rows.find((r) => r.backend === g.backend && r.server === g[side]);
        if (row) return row;
        const has = rows.filter((r) => r.backend === g.backend).map((r) => r.server);
        throw permanent(
          `${this.where} has no server ${g.backend}/${g[side]} (target.traffic.groups.${group}.${side}); ${g.backend} has ${has.join(', ') || 'no servers'}`,
        );
      };
      state.groups[group] = { percent: sharePercent(find('legacy'), find('domain')) };
    }
    return state;
  }

  setPercent(group: string, percent: number): Promise<TrafficState> {
    const g = this.config.groups[group];
    if (!g || !Object.hasOwn(this.config.groups, group))
      return Promise.reject(
        permanent(`target.traffic.groups has no mapping for group ${group} (it maps ${Object.keys(this.config.groups).join(', ')})`),
      );
    if (!(percent >= 0 && percent <= 100 && Number.isInteger(percent)))
      return Promise.reject(permanent(`percent for group ${group} must be a whole number 0..100 (HAProxy weights), got ${percent}`));
    return this.serialised(async () => {
      const before = (await this.get()).groups[group].percent;
      const legacy = `set server ${g.backend}/${g.legacy} weight ${100 - percent}`;
      const domain = `set server ${g.backend}/${g.domain} weight ${percent}`;
      // The side that grows goes first, so the pair never passes through 0/0 (no server: 503s).
      await this.change(percent >= before ? `${domain};${legacy}` : `${legacy};${domain}`);
      return confirm(group, percent, this.timeoutMs, () => this.get());
    });
  }

  /** HAProxy has no kill switch of ours: off sends every mapped group to legacy (domain weight 0). */
  async setKillSwitch(useDomainService: boolean): Promise<TrafficState> {
    if (useDomainService) return this.get();
    for (const group of Object.keys(this.config.groups)) await this.setPercent(group, 0);
    return this.get();
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private get where(): string {
    return `HAProxy Runtime API ${this.config.runtimeApi}`;
  }

  /** A `set` answers an empty line when it worked; anything else is HAProxy saying why not. */
  private async change(commands: string): Promise<void> {
    const answer = (await this.ask(commands)).trim();
    if (answer === '') return;
    const text = `${this.where}: ${commands}: ${answer.slice(0, 500)}`;
    if (PERMANENT_ANSWER.test(answer)) throw permanent(text);
    throw new Error(text);
  }

  /**
   * One Runtime API exchange: connect, send the command line, read until HAProxy closes (it does
   * after one line when not in interactive mode). Bounded by `timeout` as a whole and by
   * RUNTIME_MAX_BYTES; either is a retryable error naming the API.
   */
  ask(command: string): Promise<string> {
    const api = this.config.runtimeApi;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const socket = api.startsWith('unix:')
        ? net.connect({ path: api.slice('unix:'.length) })
        : (() => {
            const m = /^tcp:\[?(.*?)\]?:(\d+)$/.exec(api)!;
            return net.connect({ host: m[1], port: Number(m[2]) });
          })();
      const done = (err: Error | undefined, text?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.destroy();
        if (err) reject(err);
        else resolve(text!);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.where}: no complete answer to "${command}" within ${formatLimit(this.timeoutMs)} (deadline)`)),
        this.timeoutMs,
      );
      socket.on('connect', () => socket.write(`${command}\n`));
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > RUNTIME_MAX_BYTES)
          return done(new Error(`${this.where}: answer larger than ${formatBytes(RUNTIME_MAX_BYTES)} (cut off)`));
        chunks.push(chunk);
      });
      socket.on('end', () => done(undefined, Buffer.concat(chunks).toString('utf8')));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        const text = `${this.where}: ${messageOf(err)}`;
        // A socket file we may not open stays so; a refused or missing one may be HAProxy restarting.
        done(err.code === 'EACCES' ? permanent(`${text} (the worker cannot open the socket)`) : new Error(text));
      });
    });
  }
}
