import type { GroupSample, SavedReading } from '../../judge/samples';
import type { Endpoint } from '../../plan/endpoints';

/** What one group's sample is asked for. */
export interface MetricsQuery {
  /** Distinguishes readers of one source (the rollout id), for providers that keep a previous reading. */
  key: string;
  /** The group's name: selects its `rollout_routing_keys{group}` gauge, and its own previous reading. */
  group: string;
  /** The group's endpoints, as metrics label them. */
  endpoints: Endpoint[];
  from: Date;
  to: Date;
  /**
   * The group's previous reading as the caller kept it (`GroupSample.reference` of its last
   * sample), `null` when it has none yet. Absent: the provider's own memory is used, which a
   * worker restart loses.
   */
  previous?: SavedReading | null;
}

/** Reads request counts and latency histograms per implementation for a set of endpoints. */
export interface MetricsProvider {
  /**
   * Traffic over `[from, to]`. Providers that cannot query the past (a plain `/metrics` scrape)
   * return the difference to their previous reading for `key` and `group`, and `warmup: true` when
   * they have none, and the reading to pass back as `previous` in `reference`. `keys` of each implementation is the routing-keys gauge at `to`, when the source
   * exports it. Throws when the source is unreachable, and a `MetricsGarbageError` when it answers
   * garbage (NaN, ±Inf, negative or duplicate series, buckets that are not cumulative, a truncated
   * body): such an answer is never returned, and never becomes a provider's previous reading.
   */
  sample(query: MetricsQuery): Promise<GroupSample>;
}
