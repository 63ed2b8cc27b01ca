import { createHash, randomBytes } from 'node:crypto';
import { readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import axios, { type AxiosInstance } from 'axios';
import type { TrafficConfig } from '../../plan/schema';
import type { TrafficState } from '../../contracts/traffic';
import { KiB, bounded, messageOf, permanent, sleep } from '../errors';
import { durationMs } from '../settings';
import { commandFailure, shownArgv, type RunArgv } from './argv';
import type { TrafficProvider } from './traffic-provider';

export type NginxTrafficConfig = Extract<TrafficConfig, { type: 'nginx' }>;

/** The location of the owned file's status server that answers the state nginx has loaded. */
export const STATUS_PATH = '/rollout-state';
/** One status read: a few lines. */
const STATUS_MAX_BYTES = 64 * KiB;
const STATUS_DEADLINE_MS = 2000;
const POLL_EVERY_MS = 200;

/** What the status location (or the file's header) says: the file's generation and each group's percent. */
export interface NginxStatus {
  generation?: string;
  groups: Record<string, number>;
}

/**
 * `generation=<hash>` and `group=<name> percent=<n>` lines, as the owned file's status location
 * returns them and its header comments repeat them. Anything else is an error: the answer is
 * nginx's, and a half-read one must not confirm a rollback.
 */
export function parseNginxStatus(text: string, where: string, comments = false): NginxStatus {
  const out: NginxStatus = { groups: {} };
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (comments) {
      if (!/^#\s*(generation|group)=/.test(line)) continue;
      line = line.replace(/^#\s*/, '');
    }
    if (line === '') continue;
    const gen = /^generation=([0-9a-f]{1,64})$/.exec(line);
    if (gen) {
      out.generation = gen[1];
      continue;
    }
    const m = /^group=([a-z][a-z0-9-]*) percent=(\d{1,3})$/.exec(line);
    if (!m || Number(m[2]) > 100)
      throw new Error(`${where}: cannot read ${JSON.stringify(line.slice(0, 200))} (expected group=<name> percent=<0..100>)`);
    out.groups[m[1]] = Number(m[2]);
  }
  return out;
}

/** The upstream's two servers: nginx refuses `weight=0`, so a side at 0% is marked `down`. */
function servers(legacy: string, domain: string, percent: number): string[] {
  const line = (address: string, weight: number) =>
    weight === 0 ? `    server ${address} down;` : `    server ${address} weight=${weight};`;
  return [line(legacy, 100 - percent), line(domain, percent)];
}

/**
 * The whole owned file for `percents` (every mapped group): an upstream per group and a status
 * server on `statusListen` returning the same state, so a reload that did not take is seen. The
 * generation is a hash of the rest, so identical content has one generation.
 */
export function renderNginxFile(config: NginxTrafficConfig, percents: Record<string, number>): {
  text: string;
  generation: string;
} {
  const groups = Object.entries(config.groups);
  const state = groups.map(([group]) => `group=${group} percent=${percents[group] ?? 0}`);
  const body = [
    ...groups.flatMap(([group, g]) => [
      `upstream ${g.upstream} {`,
      ...servers(g.legacy, g.domain, percents[group] ?? 0),
      '}',
    ]),
    'server {',
    `    listen ${config.statusListen};`,
    '    access_log off;',
    `    location = ${STATUS_PATH} {`,
    '        default_type text/plain;',
    '        return 200 "generation=@GENERATION@\\n' + state.map((s) => `${s}\\n`).join('') + '";',
    '    }',
    '    location / { return 404; }',
    '}',
  ].join('\n');
  const generation = createHash('sha256').update(body).digest('hex').slice(0, 16);
  const header = [
    '# Written by the rollout orchestrator (target.traffic type nginx): every change rewrites this file.',
    '# Include it inside http {}; change the plan, not this file.',
    `# generation=${generation}`,
    ...state.map((s) => `# ${s}`),
  ];
  return { text: `${header.join('\n')}\n${body.replace('@GENERATION@', generation)}\n`, generation };
}

/** nginx has no kill switch of ours: the percents it serves are the whole state. */
function asState(status: NginxStatus): TrafficState {
  const groups = Object.entries(status.groups).map(([g, percent]) => [g, { percent }]);
  return { useDomainService: true, groups: Object.fromEntries(groups) };
}

export interface NginxTrafficOptions {
  runArgv: RunArgv;
  http?: AxiosInstance;
  onProgress?: (message: string) => void;
}

/**
 * nginx upstream weights in a file the provider owns: each change rewrites the file aside, puts it
 * in place only while `testCommand` (`nginx -t`) passes (the old file is restored otherwise), runs
 * `reloadCommand`, then waits until nginx serves the new file's generation on its status location:
 * a reload is asynchronous, and one nginx refused leaves the old workers serving.
 */
export class NginxTrafficProvider implements TrafficProvider {
  private readonly timeoutMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: NginxTrafficConfig,
    private readonly options: NginxTrafficOptions,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.traffic.timeout', '30s');
  }

  private get statusUrl(): string {
    return `http://${this.config.statusListen}${STATUS_PATH}`;
  }

  async get(): Promise<TrafficState> {
    return asState(await this.status());
  }

  /** The state nginx serves, read from its status location. */
  async status(): Promise<NginxStatus> {
    const res = await bounded(
      { what: `nginx status ${this.statusUrl}`, deadlineMs: STATUS_DEADLINE_MS, maxBytes: STATUS_MAX_BYTES },
      (bounds) =>
        (this.options.http ?? axios).get(this.statusUrl, {
          ...bounds,
          responseType: 'text',
          transformResponse: (d: unknown) => d,
          validateStatus: () => true,
        }),
    );
    if (res.status !== 200)
      throw new Error(`${this.statusUrl}: HTTP ${res.status} (is ${this.config.file} included in nginx's http {}?)`);
    return parseNginxStatus(String(res.data), this.statusUrl);
  }

  setPercent(group: string, percent: number): Promise<TrafficState> {
    if (!Object.hasOwn(this.config.groups, group))
      return Promise.reject(
        permanent(`target.traffic.groups has no mapping for group ${group} (it maps ${Object.keys(this.config.groups).join(', ')})`),
      );
    if (!(percent >= 0 && percent <= 100 && Number.isInteger(percent)))
      return Promise.reject(permanent(`percent for group ${group} must be a whole number 0..100 (nginx weights), got ${percent}`));
    return this.serialised(async () => {
      const current = await this.fileState();
      return this.apply({ ...current.groups, [group]: percent });
    });
  }

  /** nginx has no kill switch of ours: off sends every mapped group to legacy. */
  async setKillSwitch(useDomainService: boolean): Promise<TrafficState> {
    if (useDomainService) return this.get();
    return this.serialised(() =>
      this.apply(Object.fromEntries(Object.keys(this.config.groups).map((g) => [g, 0]))),
    );
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The percents the owned file holds (its header); none before the first change. */
  private async fileState(): Promise<NginxStatus> {
    const text = await this.readOwned();
    return text === undefined ? { groups: {} } : parseNginxStatus(text, this.config.file, true);
  }

  private async readOwned(): Promise<string | undefined> {
    try {
      return await readFile(this.config.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  private async apply(percents: Record<string, number>): Promise<TrafficState> {
    const { text, generation } = renderNginxFile(this.config, percents);
    const served = await this.status().catch(() => undefined);
    // Already written and in force: nothing to test or reload (a retry after the reload took).
    if (served?.generation !== generation || (await this.readOwned()) !== text) {
      await this.install(text);
      await this.run(this.config.reloadCommand, 'target.traffic.reloadCommand', 'reload command');
    }
    return this.waitServed(generation);
  }

  /**
   * Puts `text` in place for as long as the test passes: written aside, the old file kept as a
   * backup, renamed in, tested; on a failed test the backup is renamed back, so the file nginx
   * would load at its next reload is the old one.
   */
  private async install(text: string): Promise<void> {
    const file = this.config.file;
    const aside = (what: string) => join(dirname(file), `.${basename(file)}.${randomBytes(4).toString('hex')}.${what}`);
    const old = await this.readOwned();
    const mode = old === undefined ? 0o644 : (await stat(file)).mode & 0o777;
    const next = aside('next');
    await writeFile(next, text, { mode });
    let backup: string | undefined;
    if (old !== undefined) {
      backup = aside('prev');
      await writeFile(backup, old, { mode });
    }
    await rename(next, file);
    try {
      await this.run(this.config.testCommand, 'target.traffic.testCommand', 'nginx config test');
    } catch (err) {
      if (backup) await rename(backup, file);
      else await unlink(file).catch(() => undefined);
      throw err;
    }
    if (backup) await unlink(backup).catch(() => undefined);
  }

  private async run(argv: readonly string[], where: string, what: string): Promise<void> {
    this.options.onProgress?.(`running ${shownArgv(argv)}`);
    const res = await this.options.runArgv(argv, where, { timeoutMs: this.timeoutMs });
    if (res.exitCode !== 0) throw commandFailure(what, argv, res, this.timeoutMs);
  }

  /** Polls the status location until nginx serves `generation`, within `timeout`. */
  private async waitServed(generation: string): Promise<TrafficState> {
    const deadline = Date.now() + this.timeoutMs;
    let last = 'no answer yet';
    for (let attempt = 0; ; attempt++) {
      try {
        const status = await this.status();
        if (status.generation === generation) return asState(status);
        last = `it serves generation ${status.generation ?? '(none)'}`;
      } catch (err) {
        last = messageOf(err);
      }
      if (Date.now() >= deadline) break;
      if (attempt % 10 === 9) this.options.onProgress?.(`waiting for nginx to load generation ${generation}: ${last}`);
      await sleep(Math.min(POLL_EVERY_MS, Math.max(0, deadline - Date.now())));
    }
    throw new Error(
      `nginx did not load ${this.config.file} (generation ${generation}) within ${this.timeoutMs}ms after the reload: ${last}; see nginx's error log`,
    );
  }
}
