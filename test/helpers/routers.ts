import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';

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
 * The HAProxy configuration of the router suites: a frontend on `frontPort` sending POSTs to
 * be_write and the rest to be_read, each backend balanced round robin over the lines `servers`
 * gives it; `global` lines (stats sockets) and `frontends` (an exporter) added where they belong.
 */
export function haproxyConfig(o: { frontPort: number; servers: (backend: string) => string[]; global?: string[]; frontends?: string[] }): string {
  return [
    ...(o.global ? ['global', ...o.global.map((l) => `  ${l}`)] : []),
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    ...(o.frontends ?? []),
    'frontend fe',
    `  bind 127.0.0.1:${o.frontPort}`,
    '  use_backend be_write if { method POST }',
    '  default_backend be_read',
    ...['be_read', 'be_write'].flatMap((be) => [`backend ${be}`, '  balance roundrobin', ...o.servers(be).map((l) => `  ${l}`)]),
    '',
  ].join('\n');
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
