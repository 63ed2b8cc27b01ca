import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a hold matches on: the request line, headers and the whole body. */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A reverse proxy in front of a real target that can hold one chosen request: the stand-in for a
 * traffic switch or an endpoint that answers slowly, so a test can kill the worker mid-activity.
 */
export interface SlowProxy {
  url: string;
  /**
   * Holds the next request that `match` accepts for `ms` before forwarding it (dropped if the
   * caller hangs up meanwhile, as a dead worker does). Resolves with it when it arrives.
   */
  holdNext(match: (req: ProxiedRequest) => boolean, ms: number): Promise<ProxiedRequest>;
  /** Requests forwarded so far (held ones only once they were forwarded). */
  forwarded: ProxiedRequest[];
  close(): Promise<void>;
}

interface Hold {
  match: (req: ProxiedRequest) => boolean;
  ms: number;
  arrived: (req: ProxiedRequest) => void;
}

export async function startSlowProxy(targetUrl: string): Promise<SlowProxy> {
  const target = new URL(targetUrl);
  const holds: Hold[] = [];
  const forwarded: ProxiedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: ProxiedRequest, res: http.ServerResponse) => {
    forwarded.push(req);
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `slow proxy: ${err.message}` }));
    });
    upstream.end(req.body);
  };

  const server = http.createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (c: Buffer) => chunks.push(c));
    incoming.on('end', () => {
      const req: ProxiedRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      const i = holds.findIndex((h) => h.match(req));
      if (i < 0) return forward(req, res);
      const [hold] = holds.splice(i, 1);
      hold.arrived(req);
      let gone = false;
      res.on('close', () => (gone = !res.writableEnded));
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!gone) forward(req, res);
      }, hold.ms);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    holdNext(match, ms) {
      return new Promise((arrived) => holds.push({ match, ms, arrived }));
    },
    close() {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
