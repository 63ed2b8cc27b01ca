import http from 'node:http';
import { Counter, Histogram, Registry } from 'prom-client';

/**
 * A small item catalogue the orchestrator has never seen, for the router end-to-end suite
 * (issue 23): run as two processes, one per implementation, each on its own port with its own
 * `/metrics` in OpenTelemetry's HTTP semantic conventions as its Prometheus exporter writes them
 * (`http_server_request_duration_seconds` with `http_request_method`, `http_route`,
 * `http_response_status_code`; no label of ours: Prometheus tells the two apart by job). A router
 * in front decides which process answers; `X-Served-By` names it. The domain process takes a fault
 * through `PUT /admin/fault`.
 */

/** The routes as `http_route` spells them, which is how the plan's endpoints name them. */
export const ITEM_ENDPOINTS = ['GET /api/items', 'GET /api/items/{id}'] as const;

const ITEMS = Array.from({ length: 50 }, (_, i) => ({ id: String(i + 1), name: `item ${i + 1}`, stock: (i * 7) % 13 }));

export interface Fault {
  /** An `http_route`, e.g. `/api/items/{id}`. */
  route: string;
  /** Share of its requests answered 500, spread evenly (every n-th), so a run is reproducible. */
  errorRate: number;
}

/** The service of one implementation (`legacy` or `domain`), not yet listening. */
export function createOtelService(impl: string): http.Server {
  const registry = new Registry();
  const duration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'],
    // The semantic conventions' advice for this histogram.
    buckets: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    registers: [registry],
  });
  // The orchestrator's probes (X-Rollout-Force) are counted apart, as docs/providers.md asks: they
  // reach an implementation whatever the router's weights, and would skew the served share.
  const probes = new Counter({
    name: 'rollout_probe_requests_total',
    help: 'Requests of the rollout orchestrator probes.',
    labelNames: ['http_route'],
    registers: [registry],
  });
  let fault: Fault | undefined;
  let seen = 0;
  /** Every n-th request of the faulty route fails: exactly `errorRate` of them over any run of them. */
  const failsNow = () => {
    const before = Math.floor(seen * fault!.errorRate);
    seen += 1;
    return Math.floor(seen * fault!.errorRate) > before;
  };

  return http.createServer((req, res) => {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://service');
    const send = (status: number, body: unknown, route?: string) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'X-Served-By': impl });
      res.end(JSON.stringify(body));
      if (!route) return;
      if (req.headers['x-rollout-force']) probes.inc({ http_route: route });
      else
        duration.observe(
          { http_request_method: req.method ?? 'GET', http_route: route, http_response_status_code: String(status) },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
    };
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (url.pathname === '/metrics') {
        void registry.metrics().then((text) => {
          res.writeHead(200, { 'Content-Type': registry.contentType });
          res.end(text);
        });
        return;
      }
      if (url.pathname === '/admin/fault') {
        if (req.method === 'PUT') fault = JSON.parse(Buffer.concat(chunks).toString()) as Fault;
        else if (req.method === 'DELETE') fault = undefined;
        seen = 0;
        return send(200, { fault: fault ?? null });
      }
      const one = /^\/api\/items\/([^/]+)$/.exec(url.pathname);
      const route = url.pathname === '/api/items' ? '/api/items' : one ? '/api/items/{id}' : undefined;
      if (req.method !== 'GET' || !route) return send(404, { error: 'not found' });
      if (fault?.route === route && failsNow()) return send(500, { error: 'injected fault' }, route);
      if (!one) return send(200, { items: ITEMS, total: ITEMS.length }, route);
      const item = ITEMS.find((i) => i.id === one[1]);
      return item ? send(200, item, route) : send(404, { error: `no item ${one[1]}` }, route);
    });
  });
}
