import { statusOf, type MetricsConvention } from './conventions';
import { statusClass, type Impl } from './series';

/**
 * What `rollout verify --explain` shows of each figure a metrics provider reads (issue 23, "see
 * what it reads"): what it asked for, what matched, and a one-line diagnosis. The diagnoses are
 * pure functions of what was seen, so each cause has one wording, tested without a server.
 */

export type FigureName = 'requests' | 'latency' | 'routingKeys';

/**
 * `ok`: the figure is read; `quiet`: it is read, but nothing happened in the window; `blind`: it
 * cannot be read as the plan stands (verify exits 5); `off`: not read, and nothing judges it.
 */
export type FigureStatus = 'ok' | 'quiet' | 'blind' | 'off';

export interface FigureExplain {
  group: string;
  figure: FigureName;
  /** The PromQL run, or (a scrape) the metric names and label matchers read, with the URL. */
  reads: string[];
  /** Series the group's selectors matched. */
  series: number;
  /** Requests (latency: observations; routing keys: keys) per implementation over the window, when read. */
  counts?: Record<Impl, number>;
  /** Seconds between scrapes of the target, when Prometheus says. */
  scrapeIntervalSeconds?: number;
  status: FigureStatus;
  diagnosis: string;
}

/** A figure whose source cannot see is a reason not to trust verify's verdict. */
export const isBlind = (f: FigureExplain) => f.status === 'blind';

const n = (x: number) => x.toLocaleString('en-US');

/** Names that look like request counters first: the one meant is most likely among them. */
export function likelyFirst(names: Iterable<string>): string[] {
  const likely = (x: string) => (/request|http/i.test(x) ? 0 : 1);
  return [...new Set(names)].filter(Boolean).sort((a, b) => likely(a) - likely(b) || a.localeCompare(b));
}

/** The first dozen names, for a message. */
export const listNames = (names: readonly string[]) =>
  names.length ? names.slice(0, 12).join(', ') + (names.length > 12 ? ', …' : '') : 'none';

/** `1,204 legacy / 131 domain <what>`. */
export const perImpl = (c: Record<Impl, number>, what: string) => `${n(c.legacy)} legacy / ${n(c.domain)} domain ${what}`;

type Verdict = Pick<FigureExplain, 'status' | 'diagnosis'>;

export interface RequestsSeen {
  /** The counter with the plan's selector, as the message names it: `http_requests_total{job="x"}`. */
  metric: string;
  /** `Prometheus`, or `GET <url>`. */
  source: string;
  series: number;
  /** The selector matches no scrape target (Prometheus's own message). */
  noTarget?: string;
  /** The counter has no series at all: the names that the selector does find. */
  namesSeen?: readonly string[];
  /** Checks of this interval read nothing: the provider's message (two scrapes do not fit in one). */
  shortRange?: string;
  /** The family is declared (HELP/TYPE) but has no sample yet: nothing served since the service started. */
  declaredOnly?: boolean;
  /** Values of the implementation label the counter does carry, when none is the group's. */
  implValuesSeen?: readonly string[];
  impl: { label: string; domain: string; legacy: string };
  /** The status values that carry requests (`statusesServed`). */
  status: { label: string; values: readonly string[] };
  counts?: Record<Impl, number>;
}

/**
 * The status values of series that carry requests: a series at 0 says nothing of the label.
 * HAProxy's exporter lists `code="other"` at 0 on every server, always: counting it made every
 * real HAProxy "blind" here while its samples (addRequests) read it as nothing.
 */
export function statusesServed(c: MetricsConvention, series: ReadonlyArray<{ labels: Record<string, string>; count: number }>): string[] {
  return [...new Set(series.filter((s) => s.count > 0).map((s) => statusOf(c, s.labels) ?? ''))];
}

/** The request counter: the first thing that keeps it from counting, else what it counted. */
export function diagnoseRequests(s: RequestsSeen): Verdict {
  const blind = (diagnosis: string): Verdict => ({ status: 'blind', diagnosis });
  if (s.noTarget) return blind(s.noTarget);
  if (s.namesSeen) return blind(`no series named ${s.metric} in ${s.source}; names seen: ${listNames(s.namesSeen)}`);
  if (s.declaredOnly) return { status: 'quiet', diagnosis: DECLARED_ONLY(s.metric) };
  if (s.series === 0)
    return blind(
      `${s.metric} has no series of this group (${s.impl.label}="${s.impl.legacy}" / "${s.impl.domain}" on its endpoints)` +
        (s.implValuesSeen ? `; ${s.impl.label} values seen: ${listNames(s.implValuesSeen)}` : ''),
    );
  if (s.shortRange) return blind(s.shortRange);
  const unknown = s.status.values.filter((v) => statusClass(v) === null);
  if (unknown.length)
    return blind(
      `status label "${s.status.label}" holds neither codes nor classes (${listNames(unknown)}): those requests are neither successes nor errors; map target.metrics.names.status`,
    );
  const classes = s.status.values.filter((v) => /^[1-5]xx$/i.test(v.trim()));
  const note = classes.length ? `; status label "${s.status.label}" holds classes (${listNames(classes)})` : '';
  if (!s.counts) return { status: 'ok', diagnosis: `ok: ${n(s.series)} series${note}` };
  if (s.counts.legacy + s.counts.domain === 0)
    return { status: 'quiet', diagnosis: `${n(s.series)} series, but no requests in the window: send traffic, or widen --window${note}` };
  return { status: 'ok', diagnosis: `ok: ${perImpl(s.counts, 'requests')}${note}` };
}

export interface LatencySeen {
  /** The histogram's bucket series with the selector; `null`: the convention has no histogram. */
  metric: string | null;
  source: string;
  series: number;
  /** No `_bucket` series of that name at all: the names the selector does find. */
  namesSeen?: readonly string[];
  declaredOnly?: boolean;
  counts?: Record<Impl, number>;
  p95: boolean;
}

const DECLARED_ONLY = (metric: string) =>
  `${metric} is declared (HELP/TYPE) but has no series yet: nothing served since the service started; send traffic and run again`;

const TURN_OFF = 'turn it off with checks: {p95: off} or export a histogram';

/** The latency histogram: only blind when the phase judges P95. */
export function diagnoseLatency(s: LatencySeen): Verdict {
  const cannot = (why: string): Verdict =>
    s.p95 ? { status: 'blind', diagnosis: `${why}: p95 cannot be judged; ${TURN_OFF}` } : { status: 'off', diagnosis: `${why}; p95 is off in this phase` };
  if (s.metric === null) return cannot('no latency histogram (no _bucket series)');
  if (s.namesSeen) return cannot(`no series named ${s.metric} in ${s.source} (names seen: ${listNames(s.namesSeen)})`);
  if (s.declaredOnly) return { status: s.p95 ? 'quiet' : 'off', diagnosis: DECLARED_ONLY(s.metric) };
  if (s.series === 0) return cannot(`${s.metric} has no series of this group`);
  if (!s.p95) return { status: 'off', diagnosis: `${n(s.series)} series; p95 is off in this phase` };
  if (!s.counts) return { status: 'ok', diagnosis: `ok: ${n(s.series)} series` };
  if (s.counts.legacy + s.counts.domain === 0) return { status: 'quiet', diagnosis: `${n(s.series)} series, but no observations in the window` };
  return { status: 'ok', diagnosis: `ok: ${perImpl(s.counts, 'observations')}` };
}

/** The routing-keys gauge: optional; without it the served share is judged on requests. */
export function diagnoseKeys(keys: Record<Impl, number> | undefined): Verdict {
  if (!keys) return { status: 'off', diagnosis: 'not exported: the served share is judged on request counts' };
  return { status: 'ok', diagnosis: `ok: ${perImpl(keys, 'routing keys')}` };
}
