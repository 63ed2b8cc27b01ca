/**
 * The orchestrator's own metrics (issue 10), served by the worker on `ROLLOUT_METRICS_ADDRESS`
 * (e.g. `127.0.0.1:9464`; `npm start` sets it): what the rollouts do, from prom-client, followed on
 * the same `/metrics` by the Temporal SDK's runtime metrics (workflow-task and activity latencies,
 * slots, polls), which Core serves on a private port of its own.
 */
import http from 'node:http';
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OrchestratorMetrics } from './contracts/orchestrator-metrics';
import { listQuery } from './client/rollout-list';
import { ROLLOUT_STATES } from './contracts/definitions';

/** `host:port` from `ROLLOUT_METRICS_ADDRESS`, or `null` when it is not set. */
export function metricsAddress(env: NodeJS.ProcessEnv): { host: string; port: number } | null {
  const text = env.ROLLOUT_METRICS_ADDRESS;
  if (text === undefined || text === '') return null;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new Error(`ROLLOUT_METRICS_ADDRESS: must be host:port, like 127.0.0.1:9464 (got ${JSON.stringify(text)})`);
  return { host: m[1] ?? m[2], port };
}

/** A port nobody listens on now, for Core's exporter (read only through our `/metrics`). */
export function freeLocalPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface WorkerMetrics {
  /** Handed to the activities. */
  recorder: OrchestratorMetrics;
  registry: Registry;
}

/**
 * The registry and what feeds it. `client` counts rollouts by state from the visibility store at
 * each scrape (so a new worker knows the rollouts it has not run yet); without one that gauge is absent.
 */
export function createWorkerMetrics(client: Client | null): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'rollout_worker_' });
  const percent = new Gauge({
    name: 'rollout_orchestrator_percent',
    help: 'Share of traffic (percent) the target last confirmed for the group, as applied by this worker',
    labelNames: ['target', 'group'],
    registers: [registry],
  });
  const rollbacks = new Counter({
    name: 'rollout_orchestrator_rollbacks_total',
    help: 'Rollbacks that took effect on the target, by trigger',
    labelNames: ['trigger'],
    registers: [registry],
  });
  const rollbackSeconds = new Histogram({
    name: 'rollout_orchestrator_rollback_seconds',
    help: 'From the check that showed the fault (or the rollback request) to the target confirming the group at 0%',
    labelNames: ['trigger'],
    buckets: [0.5, 1, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 60, 120],
    registers: [registry],
  });
  const checks = new Counter({
    name: 'rollout_orchestrator_checks_total',
    help: 'Checks of a group, by the verdict they gave',
    labelNames: ['group', 'verdict'],
    registers: [registry],
  });
  const metricsErrors = new Counter({
    name: 'rollout_orchestrator_metrics_source_errors_total',
    help: 'Metrics reads that failed or returned garbage (judged inconclusive, not a failing canary)',
    registers: [registry],
  });
  if (client)
    new Gauge({
      name: 'rollout_orchestrator_rollouts',
      help: 'Rollouts on the namespace by RolloutState (one per rollout; ended ones while the namespace keeps them)',
      labelNames: ['state'],
      registers: [registry],
      async collect() {
        this.reset();
        await Promise.all(
          ROLLOUT_STATES.map(async (state) => {
            const { count } = await client.workflow.count(listQuery({ state }));
            this.set({ state }, count);
          }),
        ).catch(() => undefined); // a visibility hiccup leaves the gauge out of this scrape
      },
    });
  return {
    registry,
    recorder: {
      percentApplied: (target, group, p) => percent.set({ target, group }, p),
      rolledBack(target, group, trigger, seconds) {
        percent.set({ target, group }, 0);
        rollbacks.inc({ trigger });
        if (seconds !== null && Number.isFinite(seconds) && seconds >= 0) rollbackSeconds.observe({ trigger }, seconds);
      },
      checked: (group, verdict) => checks.inc({ group, verdict }),
      metricsSourceError: () => metricsErrors.inc(),
    },
  };
}

/** Serves `registry` then Core's exporter text at `/metrics`; resolves once listening. */
export async function serveMetrics(
  registry: Registry,
  at: { host: string; port: number },
  coreUrl: string | null,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: the metrics are at /metrics\n');
      return;
    }
    void (async () => {
      try {
        const own = await registry.metrics();
        const core = coreUrl
          ? await fetch(coreUrl, { signal: AbortSignal.timeout(3000) })
              .then((r) => (r.ok ? r.text() : ''))
              .catch(() => '')
          : '';
        res.writeHead(200, { 'Content-Type': registry.contentType }).end(`${own}\n${core}`);
      } catch (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${(err as Error).message}\n`);
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => resolve());
  });
  return server;
}
