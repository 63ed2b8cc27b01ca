import { addBuckets } from './statistics';

/**
 * What verification activities report back to the workflow. Plain data, small enough to sit in
 * workflow history at every check; the pure `evaluate()` judges it.
 */

/** Requests of one implementation over an interval. */
export interface ImplStats {
  requests: number;
  /** Answers with status >= 500. */
  errors: number;
  /** Answers with status 2xx. */
  successes: number;
  /** Cumulative latency histogram: `[upperBoundSeconds, count]`, ascending; +Inf omitted (it equals `requests`). */
  buckets: Array<[number, number]>;
  /**
   * Distinct routing keys (users) the service's router sent to this implementation for the group
   * since the group's routing last changed (gauge `rollout_routing_keys{group,impl}`), a request
   * without a key counting as a key of its own. Absent when the service exports no such figure.
   * With sticky routing the served share is a share of keys, not of requests.
   */
  keys?: number;
  /**
   * Requests whose status label is neither a code (`503`) nor a class (`5xx`): neither errors nor
   * successes can be told among them, so the rates leave them out. Absent when there are none.
   */
  unknownStatus?: number;
}

/** Traffic of one group's endpoints over `[from, to]`, split by implementation. */
export interface GroupSample {
  from: string;
  to: string;
  domain: ImplStats;
  legacy: ImplStats;
  /** The provider had no earlier reading to take a difference from (first scrape after a worker start). */
  warmup?: boolean;
  /**
   * What the next sample of this group is a difference to, for providers that read totals (a
   * `/metrics` scrape): the caller keeps it in durable state and passes it back as `previous`, so
   * the traffic served while no worker ran is judged by the next worker, not dropped.
   */
  reference?: SavedReading;
}

/** A provider's previous reading of one group, as JSON: counter values by (hashed) series identity. */
export interface SavedReading {
  at: string;
  values: Record<string, number>;
}

export interface MetricsReading {
  samples: Record<string, GroupSample>;
  /** The metrics source failed: judged inconclusive, counted apart from canary failures. */
  error?: string;
}

export interface ConsistencyReport {
  ok: boolean;
  /** Records compared. */
  checked: number;
  /** Human-readable differences, e.g. `order 7: status db="paid" yaml="open"`. */
  differences: string[];
  error?: string;
}

export interface FunctionalReport {
  ok: boolean;
  checked: number;
  /** e.g. `GET /orders via domain: status 500`. */
  failures: string[];
  /** Failures that are server errors or unreachable endpoints (5xx, timeouts), as opposed to wrong shapes. */
  serverErrors: number;
}

export interface WriteProbeReport {
  ok: boolean;
  steps: string[];
  failure?: string;
}

export interface CommandReport {
  ok: boolean;
  exitCode: number | null;
  timedOut: boolean;
  /** Tail of stdout and stderr. */
  output: string;
}

/** Result of the verification run at a step's start and at its window's end. */
export interface StageReport {
  at: string;
  functional?: FunctionalReport;
  writeProbe?: WriteProbeReport;
  command?: CommandReport;
  consistency?: ConsistencyReport;
}

/** Adds two samples of one group (a later interval to the window so far). */
export function addSamples(a: GroupSample | undefined, b: GroupSample): GroupSample {
  if (!a) return b;
  const add = (x: ImplStats, y: ImplStats): ImplStats => {
    const sum: ImplStats = {
      requests: x.requests + y.requests,
      errors: x.errors + y.errors,
      successes: x.successes + y.successes,
      buckets: addBuckets(x.buckets, y.buckets),
    };
    // A gauge of keys since the routing changed: the later reading covers the earlier one.
    const keys = y.keys ?? x.keys;
    if (keys !== undefined) sum.keys = keys;
    const unknown = (x.unknownStatus ?? 0) + (y.unknownStatus ?? 0);
    if (unknown > 0) sum.unknownStatus = unknown;
    return sum;
  };
  return { from: a.from, to: b.to, domain: add(a.domain, b.domain), legacy: add(a.legacy, b.legacy) };
}
