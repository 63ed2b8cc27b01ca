import type { GroupSample, SavedReading } from '../../judge/samples';
import type { Endpoint } from '../../plan/endpoints';
import type { FigureExplain } from './explain';

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

  /**
   * `rollout verify --explain`: what each figure of the group reads, what matched, and why it
   * cannot see when it cannot (explain.ts). Reads the source, never judges; throws as `sample` does
   * when the source is unreachable.
   */
  explain?(query: ExplainQuery): Promise<FigureExplain[]>;
}

/** What `explain` is asked for: a sample's query, and what the plan will ask of the figures. */
export interface ExplainQuery extends MetricsQuery {
  /** The plan's check interval: the range each check of a rollout reads. */
  checkIntervalMs: number;
  /** Whether the phase judges P95 (a missing histogram only matters then). */
  p95: boolean;
  /** The group's sample over `[from, to]`, when one was taken (a scrape's counts come from it). */
  sample?: GroupSample;
}
