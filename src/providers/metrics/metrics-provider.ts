import type { Endpoint, GroupSample } from '../../workflows/observations';

/** Reads request counts and latency histograms per implementation for a set of endpoints. */
export interface MetricsProvider {
  /**
   * Traffic over `[from, to]`. Providers that cannot query the past (a plain `/metrics` scrape)
   * return the difference to their previous reading for `key`, and `warmup: true` when they have none.
   * Throws when the source is unreachable or answers garbage.
   */
  sample(query: { key: string; endpoints: Endpoint[]; from: Date; to: Date }): Promise<GroupSample>;
}
