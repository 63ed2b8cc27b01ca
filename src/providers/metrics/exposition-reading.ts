import { createHash } from 'node:crypto';
import type { ImplStats, SavedReading } from '../../judge/samples';
import type { Endpoint } from '../../plan/endpoints';
import {
  MetricsGarbageError,
  SeriesRegistry,
  checkCount,
  checkCumulative,
  parseBound,
  seriesId,
  seriesText,
  type PlacedBucket,
} from './garbage';
import { boundSeconds, conventionFor, implOf, seriesMatcher, statusOf, type GroupConvention } from './conventions';
import {
  DURATION_METRIC,
  IMPLS,
  ROUTING_KEYS_METRIC,
  addRequests,
  bucketList,
  emptyStats,
  type Impl,
} from './series';
import type { ExpositionSample } from './text-format';

/**
 * One group's figures in one scrape, checked, and the difference between two such readings.
 *
 * What is garbage, and what is not:
 * - every figure read (request counters, bucket counters, `_count`, the routing-keys gauge) must
 *   be a finite count, not negative, and listed once;
 * - within one histogram series (labels without `le`) the buckets are cumulative and `_count`
 *   equals the `+Inf` bucket: client libraries write both from one snapshot, so any other answer is
 *   broken;
 * - the `+Inf` bucket is NOT compared with `http_requests_total`: that is another metric, which a
 *   service may increment at another moment (request start, before the handler fails) or for
 *   requests the histogram never sees, so the two may differ by a few requests in a healthy scrape,
 *   and calling that garbage would hold healthy rollouts;
 * - a counter that went down, or a series that vanished, is a restart of the target (a reset), not
 *   garbage: there is no difference to report, the reading becomes the new reference.
 */

/** A figure that matters to the group, where it came from and what it is. */
interface ReadSeries {
  impl: Impl;
  kind: 'requests' | 'bucket';
  status?: string;
  /** Bucket bound; `Infinity` for `+Inf`. */
  le?: number;
  /** The histogram series a bucket belongs to (its labels without `le`): identity and text. */
  histogram?: { id: string; text: string };
  value: number;
  line: number;
  text: string;
}

/** The counters that matter to one group, by series identity (`shortId`). */
export interface Reading {
  at: Date;
  series: Map<string, ReadSeries>;
  /** `rollout_routing_keys` of the group, when the target exports it (an implementation it lists no series for has 0 keys). */
  keys?: Record<Impl, number>;
}

/** Which series belong to the reading. */
export interface ReadingScope {
  group: string;
  endpoints: Endpoint[];
  /** How the service names its metrics; absent: the example backend's (the `default` preset). */
  convention?: GroupConvention;
}

/**
 * A series identity short enough to keep a group's reading in heartbeat details and workflow
 * history (12 base64 characters of its MD5: 72 bits, no collision among a group's few hundred series).
 */
const shortId = (id: string) => createHash('md5').update(id).digest('base64').slice(0, 12);

/** The reading as the caller keeps it between samples: only what `difference` needs of it. */
export function saveReading(reading: Reading): SavedReading {
  const values: Record<string, number> = {};
  for (const [id, s] of reading.series) values[id] = s.value;
  return { at: reading.at.toISOString(), values };
}

const isImpl = (v: string | undefined): v is Impl => (IMPLS as readonly string[]).includes(v ?? '');

const withoutLe = (labels: Record<string, string>) =>
  Object.fromEntries(Object.entries(labels).filter(([k]) => k !== 'le'));

/** Selects the group's series from a scrape; throws a `MetricsGarbageError` for any it cannot trust. */
export function readingOf(
  families: Map<string, ExpositionSample[]>,
  scope: ReadingScope,
  at: Date,
  where: string,
): Reading {
  const c = scope.convention ?? conventionFor({}, scope.group);
  const matches = seriesMatcher(c, scope.endpoints);
  const seen = new SeriesRegistry(where);
  const series: Reading['series'] = new Map();
  /** The samples of `name` that concern the group, each checked and registered. */
  const take = (name: string, wanted: (s: ExpositionSample) => boolean) =>
    (families.get(name) ?? []).filter((s) => {
      if (!wanted(s)) return false;
      const text = seriesText(name, s.labels);
      seen.add(name, s.labels, `line ${s.line}`);
      checkCount(s.value, text, `line ${s.line}`, where);
      return true;
    });
  const ours = (s: ExpositionSample) => matches(s.labels) && implOf(c, s.labels) !== undefined;

  const requests = take(c.requests, ours);
  for (const s of requests) {
    series.set(shortId(seriesId(c.requests, s.labels)), {
      impl: implOf(c, s.labels)!,
      kind: 'requests',
      status: statusOf(c, s.labels),
      value: s.value,
      line: s.line,
      text: seriesText(c.requests, s.labels),
    });
  }

  // No histogram (HAProxy): no buckets, and the p95 check says it cannot see.
  if (c.histogram === null) return withKeys(take, scope, { at, series });
  const histogramName = c.histogram;
  const histograms = new Map<string, { text: string; buckets: PlacedBucket[] }>();
  const bucketName = `${histogramName}_bucket`;
  for (const s of take(bucketName, ours)) {
    const text = seriesText(bucketName, s.labels);
    const bound = parseBound(s.labels.le);
    if (bound === undefined) {
      throw new MetricsGarbageError(
        'MetricsMalformed',
        `${where}: line ${s.line}: ${text} has no numeric le label`,
      );
    }
    const le = boundSeconds(c, bound);
    const histogram = {
      id: seriesId(histogramName, withoutLe(s.labels)),
      text: seriesText(histogramName, withoutLe(s.labels)),
    };
    const h = histograms.get(histogram.id) ?? { text: histogram.text, buckets: [] };
    h.buckets.push({ le, count: s.value, at: `line ${s.line}` });
    histograms.set(histogram.id, h);
    series.set(shortId(seriesId(bucketName, s.labels)), {
      impl: implOf(c, s.labels)!,
      kind: 'bucket',
      le,
      histogram,
      value: s.value,
      line: s.line,
      text,
    });
  }
  for (const h of histograms.values()) checkCumulative(h.buckets, h.text, where);
  const countName = `${histogramName}_count`;
  // Where `_count` is the request counter (OpenTelemetry, Micrometer) it was read above: compared, not read twice.
  for (const s of countName === c.requests ? requests : take(countName, ours)) {
    const inf = histograms.get(seriesId(histogramName, s.labels))?.buckets.find((b) => b.le === Infinity);
    if (inf && inf.count !== s.value) {
      throw new MetricsGarbageError(
        'MetricsNotCumulative',
        `${where}: line ${s.line}: ${seriesText(countName, s.labels)} is ${s.value}, but its le="+Inf" bucket (${inf.at}) is ${inf.count}: they count the same observations`,
      );
    }
  }
  return withKeys(take, scope, { at, series });
}

/** Adds the group's `rollout_routing_keys` gauge to a reading, when the target exports it. */
function withKeys(
  take: (name: string, wanted: (s: ExpositionSample) => boolean) => ExpositionSample[],
  scope: ReadingScope,
  reading: Reading,
): Reading {
  const keyed = take(ROUTING_KEYS_METRIC, (s) => s.labels.group === scope.group && isImpl(s.labels.impl));
  if (keyed.length) {
    reading.keys = { domain: 0, legacy: 0 };
    for (const s of keyed) reading.keys[s.labels.impl as Impl] = s.value;
  }
  return reading;
}

/**
 * The increase from `prev` to `cur` per implementation, or `undefined` when a counter went down
 * or disappeared: the target restarted and the difference means nothing. Throws a
 * `MetricsGarbageError` when the increases of one histogram are not cumulative (each observation
 * raises every bucket at or above it, so no bucket can grow less than a smaller one). `keys` come
 * from `cur` as they are: the figure is a gauge, not a counter.
 */
export function difference(
  prev: SavedReading,
  cur: Reading,
  where: string,
): { domain: ImplStats; legacy: ImplStats } | undefined {
  for (const [id, value] of Object.entries(prev.values)) {
    const c = cur.series.get(id);
    if (!c || c.value < value) return undefined;
  }
  const stats = { domain: emptyStats(), legacy: emptyStats() };
  const sums = { domain: new Map<number, number>(), legacy: new Map<number, number>() };
  const increases = new Map<string, { text: string; buckets: PlacedBucket[] }>();
  for (const [id, c] of cur.series) {
    // A series born since the last reading started at zero.
    const delta = c.value - (prev.values[id] ?? 0);
    if (c.kind === 'requests') {
      addRequests(stats[c.impl], c.status, delta);
      continue;
    }
    const h = increases.get(c.histogram!.id) ?? { text: c.histogram!.text, buckets: [] };
    h.buckets.push({ le: c.le!, count: delta, at: `line ${c.line}` });
    increases.set(c.histogram!.id, h);
    // +Inf is left out of ImplStats: it equals `requests`.
    if (c.le !== Infinity) sums[c.impl].set(c.le!, (sums[c.impl].get(c.le!) ?? 0) + delta);
  }
  for (const h of increases.values()) {
    checkCumulative(h.buckets, h.text, where, { verb: 'grew by', since: ' since the previous scrape' });
  }
  // The histogram's name as the convention has it (messages only); the reading holds its series' text.
  const histogramName =
    [...cur.series.values()].find((s) => s.histogram)?.histogram!.text.replace(/\{.*$/s, '') ?? DURATION_METRIC;
  for (const impl of IMPLS) {
    stats[impl].buckets = bucketList(sums[impl]);
    // Series with different bounds would add up to a histogram that is not one.
    checkCumulative(
      stats[impl].buckets.map(([le, count]) => ({ le, count, at: `${impl} buckets summed over the group` })),
      histogramName,
      where,
      { note: ' (do its series have different bounds?)' },
    );
    if (cur.keys) stats[impl].keys = cur.keys[impl];
  }
  return stats;
}
