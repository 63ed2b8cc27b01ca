import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RolloutSettings } from './routing';
import type { RoutingKeys } from './routing-keys';
import { GROUPS, IMPLS, type Impl } from './schemas';

const LABELS = ['route', 'method', 'impl', 'status'] as const;

export interface RequestSample {
  route: string;
  method: string;
  impl: Impl;
  status: number;
  seconds: number;
  forced: boolean;
}

/**
 * One registry per backend instance (not prom-client's global one), so several backends in one
 * process (tests) never share counters.
 */
export class BackendMetrics {
  readonly registry = new Registry();

  /** `routingKeys`: the router's key sets, exported as `rollout_routing_keys{group,impl}`. */
  constructor(routingKeys?: RoutingKeys) {
    if (!routingKeys) return;
    const keys = routingKeys;
    new Gauge({
      name: 'rollout_routing_keys',
      help:
        "Distinct X-Rollout-Key values the router sent to each implementation since the group's routing " +
        'last changed (a request without a key counts as one key; probes excluded; capped)',
      labelNames: ['group', 'impl'],
      registers: [this.registry],
      // Read at scrape time: the sets live in the router, which resets them on a change.
      collect() {
        for (const group of GROUPS)
          for (const impl of IMPLS) this.set({ group, impl }, keys.count(group, impl));
      },
    });
  }

  private readonly requests = new Counter({
    name: 'http_requests_total',
    help: 'API requests served, by route template, implementation and status (probes excluded)',
    labelNames: LABELS,
    registers: [this.registry],
  });

  private readonly duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'API request duration, by route template, implementation and status (probes excluded)',
    labelNames: LABELS,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly probes = new Counter({
    name: 'rollout_probe_requests_total',
    help: 'API requests that forced an implementation with X-Rollout-Force',
    labelNames: LABELS,
    registers: [this.registry],
  });

  private readonly percent = new Gauge({
    name: 'rollout_percent',
    help: 'Configured share (0..100) of each group sent to the domain implementation',
    labelNames: ['group'],
    registers: [this.registry],
  });

  private readonly useDomain = new Gauge({
    name: 'rollout_use_domain_service',
    help: '1 when the domain implementation may serve traffic, 0 when the kill switch is off',
    registers: [this.registry],
  });

  /**
   * Forced requests go to their own counter: they are chosen by a probe, not by the router,
   * and counting them would skew the served share the orchestrator compares with the percent.
   */
  record(sample: RequestSample): void {
    const labels = {
      route: sample.route,
      method: sample.method,
      impl: sample.impl,
      status: String(sample.status),
    };
    if (sample.forced) {
      this.probes.inc(labels);
      return;
    }
    this.requests.inc(labels);
    this.duration.observe(labels, sample.seconds);
  }

  setRollout(state: RolloutSettings): void {
    this.useDomain.set(state.useDomainService ? 1 : 0);
    for (const group of GROUPS) this.percent.set({ group }, state.groups[group].percent);
  }

  contentType(): string {
    return this.registry.contentType;
  }

  expose(): Promise<string> {
    return this.registry.metrics();
  }
}
