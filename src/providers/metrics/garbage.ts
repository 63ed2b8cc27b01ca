/**
 * Garbage from a metrics source: what it is, and the checks both providers run before a sample
 * may reach the judgement. A garbage sample is a metrics-source error (the activity returns it in
 * `MetricsReading.error`, the workflow counts it toward `maxMetricErrors`), never a verdict.
 */

/** One name per cause, as `ApplicationFailure.type` names the causes of the other provider errors. */
export type MetricsGarbageType =
  /** Not Prometheus text format (a line that does not parse). */
  | 'MetricsMalformed'
  /** The body does not end with a newline: it was cut, and its last line may have lost digits. */
  | 'MetricsTruncated'
  | 'MetricsNotANumber'
  | 'MetricsInfinite'
  | 'MetricsNegative'
  /** The same name and label set twice in one answer. */
  | 'MetricsDuplicateSeries'
  /** A histogram whose count falls as `le` grows, or whose `_count` is not its `+Inf` bucket. */
  | 'MetricsNotCumulative';

/**
 * A metrics answer that cannot be trusted. Its message names the source, the place (`line 12` of a
 * scrape body, `result[3]` of a query answer) and the series. It is a plain (retryable) error: the
 * next scrape may be fine.
 */
export class MetricsGarbageError extends Error {
  override readonly name = 'MetricsGarbageError';

  constructor(
    readonly type: MetricsGarbageType,
    message: string,
  ) {
    super(message);
  }
}

/** `name{a="1",b="2"}`, as the text format writes a series. */
export function seriesText(name: string, labels: Record<string, string>): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  return body ? `${name}{${body}}` : name || '{}';
}

/** A label set's identity, independent of label order. */
export function seriesId(name: string, labels: Record<string, string>): string {
  return `${name}${JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}`;
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * Every figure the providers read (request counters, bucket counters, their increases, the
 * routing-keys gauge) is a count: finite and not negative. `where` is the source, `at` the place
 * in its answer.
 */
export function checkCount(value: number, series: string, at: string, where: string, note = ''): void {
  const shown = `${where}: ${at}: ${series} is ${formatValue(value)}`;
  if (Number.isNaN(value))
    throw new MetricsGarbageError('MetricsNotANumber', `${shown}: not a number${note}`);
  if (!Number.isFinite(value))
    throw new MetricsGarbageError('MetricsInfinite', `${shown}: a count cannot be infinite${note}`);
  if (value < 0)
    throw new MetricsGarbageError('MetricsNegative', `${shown}: a count cannot be negative${note}`);
}

/** Remembers where each series was seen and refuses the second sighting. */
export class SeriesRegistry {
  private readonly seen = new Map<string, string>();

  /** `note` ends every message, e.g. ` (query: …)`. */
  constructor(
    private readonly where: string,
    private readonly note = '',
  ) {}

  add(name: string, labels: Record<string, string>, at: string): void {
    const id = seriesId(name, labels);
    const first = this.seen.get(id);
    if (first !== undefined) {
      throw new MetricsGarbageError(
        'MetricsDuplicateSeries',
        `${this.where}: ${at}: ${seriesText(name, labels)} is listed twice (first at ${first}): it would be counted twice${this.note}`,
      );
    }
    this.seen.set(id, at);
  }
}

/** `+Inf` for the last bucket, the number otherwise. */
export function leText(le: number): string {
  return le === Infinity ? '+Inf' : String(le);
}

/** An `le` label: a number or `+Inf`; anything else is `undefined`. */
export function parseBound(le: string | undefined): number | undefined {
  if (le === undefined || le.trim() === '') return undefined;
  const v = Number(le.trim().replace(/^\+?inf$/i, 'Infinity'));
  return Number.isNaN(v) ? undefined : v;
}

/** One bucket of a histogram as read, with the place it came from. */
export interface PlacedBucket {
  le: number;
  count: number;
  at: string;
}

/** How a cumulative check words its finding: `is 5` in a scrape, `grew by 0 since …` between two. */
export interface CumulativeWording {
  /** Default `is`. */
  verb?: string;
  /** After the count, e.g. ` since the previous scrape`. */
  since?: string;
  /** At the end, e.g. ` (query: …)`. */
  note?: string;
}

/**
 * A histogram's buckets count every observation at or below their bound, so the count never falls
 * as `le` grows. `series` names the histogram (its labels without `le`).
 */
export function checkCumulative(
  buckets: PlacedBucket[],
  series: string,
  where: string,
  wording: CumulativeWording = {},
): void {
  const { verb = 'is', since = '', note = '' } = wording;
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  for (let i = 1; i < sorted.length; i++) {
    const [lo, hi] = [sorted[i - 1], sorted[i]];
    if (hi.count < lo.count) {
      throw new MetricsGarbageError(
        'MetricsNotCumulative',
        `${where}: ${hi.at}: ${series} bucket le="${leText(hi.le)}" ${verb} ${hi.count}${since}, less than le="${leText(lo.le)}" (${lo.at}) with ${lo.count}: buckets must be cumulative${note}`,
      );
    }
  }
}
