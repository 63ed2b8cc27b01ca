import { execFileSync, spawn } from 'node:child_process';
import fs, { existsSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { renderNginxFile, type NginxTrafficConfig } from '../../src/providers/traffic/nginx';
import { freePort } from './processes';

/**
 * Real routers for the traffic providers' suites (issue 23): HAProxy and nginx as processes of
 * their own (each in its own process group, stopped as a group), in front of two tiny upstreams
 * that say who served a request, as the example backend does with `X-Served-By`.
 */

export const HAPROXY_BIN = process.env.HAPROXY_BIN || '/usr/sbin/haproxy';
export const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';

export function requireBinary(bin: string, pkg: string): void {
  if (!existsSync(bin))
    throw new Error(`${bin} is missing: run \`apt-get install -y --no-install-recommends ${pkg}\` (npm test does, through scripts/ensure-installed.js)`);
}

export interface Upstream {
  port: number;
  close(): Promise<void>;
}

/**
 * An HTTP server answering every request with `X-Served-By: <name>`: 200, or the code a path
 * `/status/<code>` asks for (a router's metrics suite sends known errors through the router).
 */
export async function startUpstream(name: 'legacy' | 'domain'): Promise<Upstream> {
  const server = http.createServer((req, res) => {
    req.resume();
    const asked = /^\/status\/(\d{3})(?:[/?]|$)/.exec(req.url ?? '');
    res.writeHead(asked ? Number(asked[1]) : 200, { 'Content-Type': 'text/plain', 'X-Served-By': name });
    res.end(`${name}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The body of an HAProxy configuration after `global`/`defaults` (for `startHaproxy`): a front on
 * `frontPort` sending POSTs to `be_write` and the rest to `be_read`, each backend with `servers`.
 */
export function haproxyFront(o: { frontPort: number; servers: (backend: string) => string[]; frontends?: string[] }): string[] {
  return [
    ...(o.frontends ?? []),
    'frontend fe',
    `  bind 127.0.0.1:${o.frontPort}`,
    '  use_backend be_write if { method POST }',
    '  default_backend be_read',
    ...['be_read', 'be_write'].flatMap((be) => [`backend ${be}`, '  balance roundrobin', ...o.servers(be).map((l) => `  ${l}`)]),
  ];
}

export interface Detached {
  pid: number;
  output(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

/** A server process in a process group of its own: stopping it stops its workers too. */
export function startDetached(bin: string, args: string[], cwd: string): Detached {
  const child = spawn(bin, args, { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-50_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  return {
    pid: child.pid!,
    output: () => out,
    exited: () => child.exitCode !== null || child.signalCode !== null,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await gone;
      clearTimeout(timer);
      // Workers of the group that outlived their master.
      signal('SIGKILL');
    },
  };
}

/** Who served each of `n` requests to `url` (a new connection each, so each is balanced anew). */
export async function servedBy(url: string, n: number): Promise<{ legacy: number; domain: number }> {
  const counts = { legacy: 0, domain: 0 };
  for (let i = 0; i < n; i++) {
    const res = await fetch(url, { headers: { Connection: 'close' }, signal: AbortSignal.timeout(5000) });
    await res.text();
    const by = res.headers.get('x-served-by');
    if (by !== 'legacy' && by !== 'domain') throw new Error(`request ${i} to ${url}: HTTP ${res.status}, X-Served-By ${by}`);
    counts[by] += 1;
  }
  return counts;
}

/**
 * Percents a router test sets, each with what the requests through the router must show: some
 * domain answers at 10%, both sides at 50%, only one side at 100% and 0%.
 */
export const SPLITS: Array<[number, (c: { legacy: number; domain: number }) => void]> = [
  [10, (c) => expect(c.domain).toBeGreaterThanOrEqual(1)],
  [50, (c) => expect(Math.min(c.legacy, c.domain)).toBeGreaterThanOrEqual(10)],
  [100, (c) => expect(c.legacy).toBe(0)],
  [0, (c) => expect(c.domain).toBe(0)],
];

/** Polls `ready` every 100 ms until it is true; fails with `proc`'s output when it exits or after 30 s. */
async function untilReady(what: string, proc: Detached, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exited()) throw new Error(`${what} exited:\n${proc.output()}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within 30 s:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * An HAProxy of its own in `dir`, its admin Runtime API on `<dir>/admin.sock` (plus `global`'s
 * lines), HTTP mode, `body`'s frontends and backends. Resolves once the socket is there.
 */
export async function startHaproxy(dir: string, body: string[], global: string[] = []): Promise<{ proc: Detached; socket: string }> {
  requireBinary(HAPROXY_BIN, 'haproxy');
  const socket = path.join(dir, 'admin.sock');
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(
    cfg,
    [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      ...global,
      'defaults',
      '  mode http',
      '  timeout connect 2s',
      '  timeout client 10s',
      '  timeout server 10s',
      ...body,
      '',
    ].join('\n'),
  );
  const proc = startDetached(HAPROXY_BIN, ['-f', cfg, '-db'], dir);
  await untilReady('haproxy', proc, async () => fs.existsSync(socket));
  return { proc, socket };
}

/** HAProxy's own answers, read without the providers: test/helpers/haproxy-weights.js. */
// Plain JS: the command provider runs the same file as a router script.
export const haproxyRuntime = require('./haproxy-weights') as {
  ask(socket: string, command: string): Promise<string>;
  serverStates(socket: string, backend: string): Promise<Record<string, { weight: number; up: boolean; admin: boolean }>>;
  domainPercent(socket: string, backend: string): Promise<number>;
};

/** The script `haproxy-weights.js` as a program a worker's policy can allow. */
export const HAPROXY_WEIGHTS_SCRIPT = path.join(__dirname, 'haproxy-weights.js');

export interface NginxSetup {
  /** The groups of the provider's file (its upstreams and their servers). */
  groups: NginxTrafficConfig['groups'];
  /** Lines inside the front `server {}` after its `listen`: the locations sending to the upstreams. */
  locations: string[];
  /** Lines inside `http {}` before the server (maps, fixed upstreams). */
  http?: string[];
  /** Runs the master as this user instead of the current one (the non-root check). */
  owner?: string;
}

export interface RunningNginx {
  proc: Detached;
  config: NginxTrafficConfig;
  /** `http://127.0.0.1:<port>` of the front server. */
  front: string;
  /** The file the provider owns. */
  owned: string;
}

/**
 * An nginx of its own in a temporary prefix: pid file, temp paths and logs inside it, so it runs
 * as any user. Run by root, its workers switch to `nobody` (nginx's default `user`): the prefix is
 * made readable to them. The provider's file starts with every group at 0%, as an operator puts
 * it in place before the first rollout.
 */
export async function startNginx(dir: string, setup: NginxSetup): Promise<RunningNginx> {
  requireBinary(NGINX_BIN, 'nginx');
  const [frontPort, statusPort] = await Promise.all([freePort(), freePort()]);
  const main = path.join(dir, 'nginx.conf');
  const owned = path.join(dir, 'rollout.conf');
  fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  fs.chmodSync(dir, 0o755);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/tmp/${t};`);
  fs.writeFileSync(
    main,
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      'error_log stderr notice;',
      'events { worker_connections 256; }',
      'http {',
      '  access_log off;',
      ...temp,
      ...(setup.http ?? []).map((l) => `  ${l}`),
      '  server {',
      `    listen 127.0.0.1:${frontPort};`,
      ...setup.locations.map((l) => `    ${l}`),
      '  }',
      `  include ${owned};`,
      '}',
      '',
    ].join('\n'),
  );
  const nginx = (...args: string[]) => [NGINX_BIN, '-p', dir, '-c', main, '-e', 'stderr', ...args];
  const config: NginxTrafficConfig = {
    type: 'nginx',
    file: owned,
    statusListen: `127.0.0.1:${statusPort}`,
    groups: setup.groups,
    testCommand: nginx('-t'),
    reloadCommand: nginx('-s', 'reload'),
    timeout: '10s',
  };
  fs.writeFileSync(owned, renderNginxFile(config, {}).text);
  if (setup.owner) execFileSync('chown', ['-R', setup.owner, dir]);
  const [bin, ...args] = nginx('-g', 'daemon off;');
  const proc = setup.owner ? startDetached('runuser', ['-u', setup.owner, '--', bin, ...args], dir) : startDetached(bin, args, dir);
  await untilReady('nginx', proc, async () => (await fetch(`http://${config.statusListen}/rollout-state`)).ok);
  return { proc, config, front: `http://127.0.0.1:${frontPort}`, owned };
}

/** What nginx serves on the provider's status location, per group (`group=<g> percent=<n>` lines). */
export async function nginxServedPercents(statusListen: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${statusListen}/rollout-state`, { signal: AbortSignal.timeout(5000) })).text();
  return Object.fromEntries([...text.matchAll(/^group=(\S+) percent=(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}
