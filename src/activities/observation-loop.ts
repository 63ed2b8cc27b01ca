/**
 * The loop of the observing activity (issue 9), apart from Temporal: a clock, a sampler, a
 * consistency check and a heartbeat are injected, so its tests run a 30-minute window in
 * milliseconds and the activity around it only wires Temporal's context in.
 *
 * Every check is judged by the workflow's own pure code (`judgeCheck`); only a rollback returns
 * at once. Window time counts only time that was watched: a check that read no metrics, and any
 * gap longer than an interval and a half (the worker was down), is blind time, not window time;
 * the traffic of such a gap is still judged by the next sample, which starts where the last ended.
 */
import type {
  ObservationEnd,
  ObservationInput,
  ObservationResult,
  ObservationState,
  ObservedNotice,
} from '../contracts/observation';
import { formatDuration } from '../plan/duration';
import type { CheckResult } from '../judge/verdicts';
import { combine, p95Ms } from '../judge/verdicts';
import { evaluateConsistency } from '../judge/stage-checks';
import { halve } from '../contracts/evidence';
import type { OrchestratorMetrics } from '../contracts/orchestrator-metrics';
import type { ConsistencyReport, ImplStats, MetricsReading, SavedReading } from '../judge/samples';
import { checkResults, judgeCheck, recordBaseline, startJudge } from '../judge/window-judge';

/** What the loop needs from the world. */
export interface ObservationDeps {
  /** Epoch ms. */
  now(): number;
  /** Waits `ms`; resolves `false` when the observation is asked to stop first. */
  sleep(ms: number): Promise<boolean>;
  sample(
    groups: Array<{ group: string; endpoints: string[]; previous: SavedReading | null }>,
    from: string,
    to: string,
  ): Promise<MetricsReading>;
  consistency(): Promise<ConsistencyReport>;
  heartbeat(state: ObservationState): void;
  /** Counts checks and metrics-source errors for the worker's metrics. */
  metrics?: Pick<OrchestratorMetrics, 'checked' | 'metricsSourceError'>;
}

/** A gap up to this many intervals between checks is watched time; beyond it, blind. */
const WATCHED_GAP = 1.5;
/**
 * Evidence rows an observation returns at most: a 30-minute slice of 10-second checks for four
 * groups; more (1-second checks, many groups) are merged into wider rows.
 */
const EVIDENCE_ROWS = 800;

/** The check's P95 in ms to 0.1 ms (the evidence is kept compact), `null` when it had no requests. */
function roundedP95(stats: ImplStats): number | null {
  const ms = stats.requests > 0 ? p95Ms(stats) : null;
  return ms === null || !Number.isFinite(ms) ? null : Math.round(ms * 10) / 10;
}

export async function runObservation(
  input: ObservationInput,
  deps: ObservationDeps,
): Promise<ObservationResult> {
  const state: ObservationState = structuredClone(input.state);
  const warnings: string[] = [];
  const started = deps.now();
  const interval = input.checkIntervalMs;
  state.lastCheckAtMs ??= started;
  const done = (end: ObservationEnd): ObservationResult => ({ end, state, warnings });
  for (;;) {
    if (state.windowRemainingMs !== null && state.windowRemainingMs <= 0) return done({ kind: 'window-end' });
    const now = deps.now();
    const sliceLeft = started + input.sliceMs - now;
    if (sliceLeft <= 0) return done({ kind: 'slice' });
    state.nextCheckAt ??= now + interval;
    const wait = Math.min(state.nextCheckAt - now, sliceLeft);
    if (wait > 0 && !(await deps.sleep(wait))) return done({ kind: 'stopped' });
    if (deps.now() < state.nextCheckAt) continue;
    const end = await check(input, state, deps, warnings);
    deps.heartbeat(state);
    if (end) return done(end);
  }
}

/** One check of every group; an end when it says rollback or the metrics source is given up on. */
async function check(
  input: ObservationInput,
  state: ObservationState,
  deps: ObservationDeps,
  warnings: string[],
): Promise<ObservationEnd | null> {
  const interval = input.checkIntervalMs;
  const references = (state.references ??= {});
  const toMs = deps.now();
  const to = new Date(toMs).toISOString();
  const from = state.lastSampleAt ?? new Date(toMs - interval).toISOString();
  const reading = await deps
    .sample(
      input.groups.map(({ group, endpoints }) => ({ group, endpoints, previous: references[group] ?? null })),
      from,
      to,
    )
    .catch((err: unknown): MetricsReading => ({
      samples: {},
      error: err instanceof Error ? err.message : String(err),
    }));
  state.checks += 1;
  state.nextCheckAt = toMs + interval;
  const gap = toMs - state.lastCheckAtMs!; // set when the observation began
  state.lastCheckAtMs = toMs;

  let shown: { group: string; results: CheckResult[] } | null = null;
  const notices: ObservedNotice[] = [];
  let rollback: { group: string; results: CheckResult[] } | null = null;
  let read = false;
  for (const g of input.groups) {
    if (!reading.samples[g.group]) continue;
    // The reference is the next sample's business, not the judges' (they keep recent samples).
    const { reference, ...sample } = reading.samples[g.group];
    read = true;
    if (reference) references[g.group] = reference;
    // A sample that began before the last change of percent mixes two shares: judge neither.
    if (sample.warmup || Date.parse(from) < g.appliedAtMs) continue;
    const judge = state.judges[g.group] ?? startJudge(g.context.thresholds);
    if (g.context.percent === 0) {
      state.judges[g.group] = recordBaseline(judge, sample);
      continue;
    }
    const judged = judgeCheck(judge, sample, g.context);
    state.judges[g.group] = judged.state;
    state.evidence.push([
      toMs,
      g.group,
      sample.domain.requests,
      sample.domain.errors,
      sample.legacy.requests,
      sample.legacy.errors,
      roundedP95(sample.domain),
      roundedP95(sample.legacy),
    ]);
    for (const n of judged.notices)
      notices.push({ at: to, group: g.group, check: n.check, ...(n.kind ? { kind: n.kind } : {}), reason: n.reason });
    const results = checkResults(judged, g.context);
    if (g.consistency) results.push(evaluateConsistency(await deps.consistency()));
    deps.metrics?.checked(g.group, combine(results).verdict);
    const entry = { group: g.group, results };
    if (!rollback && results.some((r) => r.verdict === 'rollback')) rollback = entry;
    if (g.group === input.primary || !shown) shown = entry;
  }
  // Merged, not dropped: every request stays counted, and a slice's result stays small.
  while (state.evidence.length > EVIDENCE_ROWS) state.evidence = halve(state.evidence);
  // Only a sample that ends now moves the next one on: after a failed read the traffic is judged later.
  if (read) state.lastSampleAt = to;

  if (reading.error) {
    deps.metrics?.metricsSourceError();
    state.metricErrors += 1;
    warnings.push(`metrics source error ${state.metricErrors}: ${reading.error}`);
  } else state.metricErrors = 0;

  if (state.windowRemainingMs !== null) {
    const watched = read && !reading.error ? Math.min(gap, WATCHED_GAP * interval) : 0;
    state.windowRemainingMs = Math.max(0, state.windowRemainingMs - watched);
    state.blindMs += gap - watched;
    state.blindRunMs += gap - watched;
    if (read && state.blindRunMs > 0) {
      if (state.blindRunMs >= interval)
        warnings.push(
          `metrics unread for ${formatDuration(toMs - Date.parse(from))}: the window is extended by ${formatDuration(state.blindRunMs)}`,
        );
      state.blindRunMs = 0;
    }
  }
  const picked = rollback ?? shown;
  if (picked) state.lastCheck = { at: to, group: picked.group, results: picked.results };
  else if (reading.error)
    state.lastCheck = {
      at: to,
      group: input.primary,
      results: [
        {
          check: 'errorRate',
          verdict: 'inconclusive',
          reason: `metrics source error: ${reading.error}`,
          figures: {},
        },
      ],
    };
  if (rollback) return { kind: 'rollback', ...rollback };
  if (state.metricErrors >= input.maxMetricErrors)
    return { kind: 'metrics-hold', error: reading.error ?? '' };
  // Returned at once, so the workflow announces it now, not at the window's end.
  if (notices.length > 0) return { kind: 'notice', notices };
  return null;
}
