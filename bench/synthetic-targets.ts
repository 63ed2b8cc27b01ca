/**
 * Many targets in one process, for `bench/concurrency.ts`: each `/t/<id>/` is a service with one
 * read endpoint under rollout, the admin API (`GET|PUT /t/<id>/admin/rollout`, SPEC §5) and its
 * own `/t/<id>/metrics` in Prometheus text format, whose counters grow with the time elapsed
 * (`--rps` requests/s per target, split by the target's percent, 0.5% errors on both sides,
 * the same latency on both), so a healthy rollout passes and every check has traffic to judge.
 *
 * It records when each target's metrics were read: `GET /stats?since=<epoch ms>&until=<epoch ms>`
 * answers the intervals between consecutive reads of each target in that period (the check cadence the
 * orchestrator achieved), `POST /stats/reset` forgets them.
 *
 *   ts-node bench/synthetic-targets.ts --port 9000 [--rps 5]
 */
import http from 'node:http';

const ROUTE = '/api/v1/things';
/** Cumulative share of requests at or under each bound (seconds). */
const LATENCY: Array<[number, number]> = [
  [0.025, 0.3],
  [0.05, 0.7],
  [0.1, 0.95],
  [0.25, 0.99],
  [1, 1],
];
const ERROR_RATE = 0.005;

interface Impl {
  requests: number;
  errors: number;
}

interface Target {
  percent: number;
  useDomainService: boolean;
  /** Epoch ms up to which traffic has been added to the counters. */
  until: number;
  domain: Impl;
  legacy: Impl;
  reads: number[];
}

export function createSyntheticTargets(rps: number, now: () => number = Date.now) {
  const targets = new Map<string, Target>();
  const target = (id: string): Target => {
    let t = targets.get(id);
    if (!t) {
      t = {
        percent: 0,
        useDomainService: true,
        until: now(),
        domain: { requests: 0, errors: 0 },
        legacy: { requests: 0, errors: 0 },
        reads: [],
      };
      targets.set(id, t);
    }
    return t;
  };
  /** Adds the traffic since the last update at the share in force meanwhile (whole requests). */
  const advance = (t: Target) => {
    const at = now();
    const total = Math.floor(((at - t.until) / 1000) * rps);
    if (total <= 0) return;
    t.until += (total / rps) * 1000;
    const share = t.useDomainService ? t.percent / 100 : 0;
    const domain = Math.round(total * share);
    for (const [impl, n] of [
      [t.domain, domain],
      [t.legacy, total - domain],
    ] as const) {
      impl.requests += n;
      impl.errors = Math.round(impl.requests * ERROR_RATE);
    }
  };
  const exposition = (t: Target): string => {
    const lines = [
      '# HELP http_requests_total Requests answered',
      '# TYPE http_requests_total counter',
    ];
    const hist = ['# HELP http_request_duration_seconds Latency', '# TYPE http_request_duration_seconds histogram'];
    for (const [name, impl] of [
      ['domain', t.domain],
      ['legacy', t.legacy],
    ] as const) {
      const labels = `route="${ROUTE}",method="GET",impl="${name}"`;
      lines.push(`http_requests_total{${labels},status="200"} ${impl.requests - impl.errors}`);
      lines.push(`http_requests_total{${labels},status="500"} ${impl.errors}`);
      for (const [le, share] of LATENCY)
        hist.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${Math.floor(impl.requests * share)}`);
      hist.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${impl.requests}`);
      hist.push(`http_request_duration_seconds_sum{${labels}} ${(impl.requests * 0.045).toFixed(3)}`);
      hist.push(`http_request_duration_seconds_count{${labels}} ${impl.requests}`);
    }
    return `${lines.join('\n')}\n${hist.join('\n')}\n`;
  };
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const state = (t: Target) => ({ useDomainService: t.useDomainService, groups: { read: { percent: t.percent } } });

  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = /^\/t\/([A-Za-z0-9._-]+)(\/.*)$/.exec(url.pathname);
    if (url.pathname === '/stats' && req.method === 'GET') {
      const since = Number(url.searchParams.get('since') ?? 0);
      const until = Number(url.searchParams.get('until') ?? Infinity);
      const intervals: number[] = [];
      for (const t of targets.values()) {
        const reads = t.reads.filter((r) => r >= since && r < until);
        for (let i = 1; i < reads.length; i++) intervals.push(reads[i] - reads[i - 1]);
      }
      return json(res, 200, { targets: targets.size, intervals });
    }
    if (!m) return json(res, 404, { error: `no such path: ${url.pathname}` });
    const t = target(m[1]);
    const rest = m[2];
    if (rest === '/metrics' && req.method === 'GET') {
      advance(t);
      t.reads.push(now());
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
      return res.end(exposition(t));
    }
    if (rest === '/admin/rollout' && req.method === 'GET') return json(res, 200, state(t));
    if (rest === '/admin/rollout' && req.method === 'PUT') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        let patch: { useDomainService?: unknown; groups?: { read?: { percent?: unknown } } };
        try {
          patch = JSON.parse(body);
        } catch {
          return json(res, 400, { error: 'body is not JSON' });
        }
        advance(t); // the traffic so far was served at the old share
        if (typeof patch.useDomainService === 'boolean') t.useDomainService = patch.useDomainService;
        const p = patch.groups?.read?.percent;
        if (typeof p === 'number' && p >= 0 && p <= 100) t.percent = p;
        json(res, 200, state(t));
      });
      return;
    }
    if (rest === ROUTE && req.method === 'GET') return json(res, 200, { ok: true });
    json(res, 404, { error: `no such path: ${rest}` });
  });
}

if (require.main === module) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(`--${name}`);
    const n = i > 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: a positive number`);
    return n;
  };
  const port = arg('port', 9000);
  const server = createSyntheticTargets(arg('rps', 5));
  server.listen(port, '127.0.0.1', () => console.log(`synthetic targets listening on 127.0.0.1:${port}`));
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
