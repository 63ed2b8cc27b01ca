/**
 * What a plan will catch at a given traffic, before it runs: for each step, how often a healthy
 * canary is rolled back or held, and how long 10%- and 50%-error canaries and +60%/+150% P95
 * regressions take to be rolled back, by the plan's own verdict code on synthetic traffic.
 */
import { formatDuration } from '../plan/duration';
import type { Plan } from '../plan/schema';
import { checksOf } from '../plan/checks';
import { checkAlpha, p95BucketWarning } from '../judge/window-judge';
import { summarize, type CellSummary } from './experiment';
import { median, p95IdealSamples } from './figures';
import { createRandom } from './random';
import { runCells, type PoolOptions } from './pool';
import {
  CONTINUOUS_WINDOW_MS,
  cellFor,
  domainErrors,
  healthy,
  planSteps,
  slowerDomain,
  type Canary,
  type Load,
  type PlanStep,
} from './scenarios';
import { durationMs, measureBaseline } from './step-runner';
import { BACKEND_BUCKETS, DEFAULT_LATENCY } from './traffic-model';

export interface SimulationOptions {
  rps: number;
  /** Sticky routing with this many equally active users; per-request routing when absent. */
  users?: number;
  /** Base error rate of both implementations. */
  errorRate: number;
  seed: string;
  runs: number;
  buckets?: readonly number[];
}

/** How quickly one kind of fault is rolled back at one step. */
export interface FaultFigure {
  /** Median time to roll back over every run; `null` when most runs never rolled back. */
  medianMs: number | null;
  /** Share of runs rolled back before the window's end. */
  withinWindow: number;
}

export interface StepRow {
  phase: string;
  step: PlanStep;
  healthy: CellSummary;
  errors10: FaultFigure;
  errors50: FaultFigure;
  p95x160: FaultFigure;
  p95x250: FaultFigure;
}

export interface PlanSimulation {
  rows: StepRow[];
  warnings: string[];
}

/** The canaries of the table, by column. */
export function canariesOf(
  errorRate: number,
): Record<'healthy' | 'errors10' | 'errors50' | 'p95x160' | 'p95x250', Canary> {
  return {
    healthy: healthy(errorRate),
    errors10: domainErrors(errorRate, 0.1),
    errors50: domainErrors(errorRate, 0.5),
    p95x160: slowerDomain(errorRate, 1.6),
    p95x250: slowerDomain(errorRate, 2.5),
  };
}

/** Whether the phase named `phase` checks the P95 (every phase does unless it lists its checks). */
function checksP95(plan: Plan, phase: string): boolean {
  const found = plan.phases.find((p) => p.name === phase);
  return !found || checksOf(found).includes('p95');
}

/** Warnings that need no simulation: buckets that cannot show the P95 bar, windows short of samples. */
export function planWarnings(plan: Plan, o: SimulationOptions, steps: PlanStep[]): string[] {
  const warnings: string[] = [];
  const t = plan.defaults.thresholds;
  const buckets = o.buckets ?? BACKEND_BUCKETS;
  const interval = durationMs(plan.defaults.checkInterval);
  // An hour of legacy traffic shows where the buckets put the legacy P95.
  const legacy = measureBaseline(
    {
      rps: Math.max(o.rps, 1),
      percent: 0,
      checkIntervalMs: interval,
      routing: { kind: 'per-request' },
      errorRate: { legacy: o.errorRate, domain: o.errorRate },
      latency: DEFAULT_LATENCY,
      buckets,
    },
    3_600_000,
    createRandom(`${o.seed}/buckets`),
  );
  const coarse = p95BucketWarning(legacy, t, [...buckets]);
  if (coarse) warnings.push(`p95: ${coarse}`);
  const extensions = plan.defaults.maxExtensions;
  // What the P95 rule could ever show: +60% over the bar's +50% needs this many domain requests.
  const alpha = checkAlpha(t, 'p95');
  const p95Needs = p95IdealSamples(
    DEFAULT_LATENCY.sigma,
    t.p95Increase.rollback + 0.1,
    t.p95Increase.rollback,
    alpha,
    0.01,
  );
  const p95Short: string[] = [];
  for (const s of steps) {
    const where = `${s.phase} ${s.label}`;
    if (s.percent > 0 && !s.continuous) {
      const perWindow = (o.rps * (s.percent / 100) * s.windowMs) / 1000;
      if (checksP95(plan, s.phase) && !coarse && perWindow < p95Needs)
        p95Short.push(`${where} (≈ ${perWindow.toFixed(0)})`);
      if (perWindow < t.minSamples) {
        const total = perWindow * (1 + extensions);
        warnings.push(
          `${where}: about ${perWindow.toFixed(0)} domain requests per window at ${o.rps} requests/s (minSamples ${t.minSamples}): ` +
            (total < t.minSamples
              ? `not reachable even with ${extensions} extensions (${total.toFixed(0)}): every healthy step holds`
              : `the window is extended up to ${extensions} times (about ${Math.ceil(t.minSamples / perWindow) - 1})`),
        );
      }
    }
    if (s.percent >= 100) {
      const baseline = (o.rps * durationMs(plan.defaults.baselineWindow)) / 1000;
      if (baseline < t.minSamples)
        warnings.push(
          `${where}: the baseline window (${plan.defaults.baselineWindow}) sees about ${baseline.toFixed(0)} legacy requests (minSamples ${t.minSamples}): at 100% the P95 has no reference`,
        );
    }
  }
  if (p95Short.length)
    warnings.push(
      `p95: a P95 of +${Math.round((t.p95Increase.rollback + 0.1) * 100)}% (just over the bar) needs ≈ ${Math.round(p95Needs)} domain requests in a window ` +
        `to be rolled back reliably (99%, σ ${DEFAULT_LATENCY.sigma} of log latency assumed); fewer at ${o.rps} requests/s in ${p95Short.join(', ')}: ` +
        `such a regression may only hold there, and a larger one is needed to roll back`,
    );
  return warnings;
}

/** Runs every step of `plan` with each canary, `o.runs` times. */
export async function simulatePlan(
  plan: Plan,
  o: SimulationOptions,
  pool: PoolOptions = {},
): Promise<PlanSimulation> {
  const steps = planSteps(plan, CONTINUOUS_WINDOW_MS).filter((s) => s.percent > 0);
  const load: Load = {
    rps: o.rps,
    routing: o.users ? { kind: 'sticky', users: o.users } : { kind: 'per-request' },
    buckets: o.buckets ?? BACKEND_BUCKETS,
  };
  const canaries = canariesOf(o.errorRate);
  const cells = steps.map((step) => ({
    step,
    cells: Object.fromEntries(
      Object.entries(canaries).map(([k, canary]) => [k, cellFor(plan, step, canary, load, o.runs, o.seed)]),
    ) as Record<keyof typeof canaries, ReturnType<typeof cellFor>>,
  }));
  const records = await runCells(
    cells.flatMap((c) => Object.values(c.cells)),
    pool,
  );
  const fault = (id: string, step: PlanStep): FaultFigure => {
    const r = records.get(id)!;
    // Over every run, a run that never rolled back counting as never: a median of the few that did
    // would flatter a plan that misses the fault most of the time.
    const times = r.map((x) => (x.outcome === 'rollback' ? x.atMs : Infinity)).sort((a, b) => a - b);
    const m = median(times);
    return {
      medianMs: m === null || !Number.isFinite(m) ? null : m,
      withinWindow:
        r.filter((x) => x.outcome === 'rollback' && x.atMs <= step.windowMs).length / Math.max(1, r.length),
    };
  };
  const rows = cells.map(({ step, cells: c }): StepRow => ({
    phase: step.phase,
    step,
    healthy: summarize(records.get(c.healthy.id)!),
    errors10: fault(c.errors10.id, step),
    errors50: fault(c.errors50.id, step),
    p95x160: fault(c.p95x160.id, step),
    p95x250: fault(c.p95x250.id, step),
  }));
  return { rows, warnings: planWarnings(plan, o, steps) };
}

/** "44s (100%)": the median time to roll back and the share rolled back within the window. */
export function faultText(f: FaultFigure): string {
  const share = `${(f.withinWindow * 100).toFixed(0)}%`;
  return f.medianMs === null ? `never (${share})` : `${formatDuration(f.medianMs)} (${share})`;
}
