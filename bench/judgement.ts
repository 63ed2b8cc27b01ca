/**
 * The standard table of issue 7's "Figures to reach": the seed plan's own verdict code
 * (`src/judge/window-judge.ts`) driven through thousands of simulated steps of synthetic
 * traffic (`src/simulate/`). Not a timed test: it prints figures.
 *
 *   npm run bench:judgement [-- --seed S --scale X --threads N --healthy-only --cells REGEX]
 *
 * `--scale` multiplies every cell's runs (0.1 for a quick look, 3 to push the healthy bounds
 * under 0.1% where the window is short). Runs per cell are printed with every figure. `--cells`
 * runs only the cells whose id matches (ids look like
 * `phase3-write/5%/1h/bursts-shared-x20-0.01-3c/R50/per request/backend`).
 *
 * Besides the conditions the rules assume (binomial errors, equal users, steady volume, a
 * histogram), it runs those where their assumptions break (issue 22): bursty errors, heavy-tailed
 * users, swinging volume, canaries between target and bar, faults from the start and from
 * mid-window, and a metrics source without a latency histogram, at every step of the seed plan.
 */
import path from 'node:path';
import { formatDuration } from '../src/plan/duration';
import { loadPlan } from '../src/plan/load';
import type { Plan } from '../src/plan/schema';
import type { Cell, RunRecord } from '../src/simulate/experiment';
import { runSeed, summarize, type CellSummary } from '../src/simulate/experiment';
import { createRandom } from '../src/simulate/random';
import { runStep } from '../src/simulate/step-runner';
import {
  median,
  p95IdealSamples,
  sprtExpectedSamples,
  sprtChecks,
  upperBound,
} from '../src/simulate/figures';
import { defaultThreads, runCells } from '../src/simulate/pool';
import {
  bothFailing,
  burstyErrors,
  cellFor,
  domainErrors,
  domainRate,
  healthy,
  planSteps,
  slowerDomain,
  slowerDomainBy,
  type Canary,
  type Load,
  type PlanStep,
} from '../src/simulate/scenarios';
import {
  BACKEND_BUCKETS,
  DEFAULT_BURSTS,
  DEFAULT_LATENCY,
  FINE_BUCKETS,
  startTraffic,
  swingDuty,
  trueP95Ms,
  userWeights,
  type Swing,
} from '../src/simulate/traffic-model';
import { checkAlpha } from '../src/judge/window-judge';

const HOUR = 3_600_000;
const BASE_ERRORS = 0.005;
const USERS = 2000;
const RATES = [50, 5];
/**
 * Runs per cell at scale 1, for windows up to 1h (longer ones get fewer, see `runsFor`): sized so
 * the table takes about 10 minutes on 2 idle cores. Healthy steps show ≤ 0.1% only from about
 * 3,000 runs: `--scale 5` does that for the short windows in about an hour.
 */
const RUNS = { healthy: 600, slow: 100, fault: 1000 };

interface Options {
  seed: string;
  scale: number;
  threads: number;
  /** Only the healthy cells: `--healthy-only --scale 5` shows ≤ 0.1% per cell in about half an hour. */
  healthyOnly: boolean;
  /** Only the cells whose id matches. */
  cells: RegExp | null;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seed: 'judgement-1',
    scale: 1,
    threads: defaultThreads(),
    healthyOnly: false,
    cells: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    const num = () => {
      const n = Number(value);
      if (value === undefined || !Number.isFinite(n) || n <= 0)
        throw new Error(`${flag}: must be a positive number (got ${value})`);
      i++;
      return n;
    };
    if (flag === '--seed' && value !== undefined) {
      o.seed = value;
      i++;
    } else if (flag === '--scale') o.scale = num();
    else if (flag === '--healthy-only') o.healthyOnly = true;
    else if (flag === '--threads') o.threads = Math.round(num());
    else if (flag === '--cells' && value !== undefined) {
      try {
        o.cells = new RegExp(value);
      } catch (err) {
        throw new Error(
          `--cells: not a regular expression: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      i++;
    } else
      throw new Error(
        `unknown option ${flag} (--seed S, --scale X, --threads N, --healthy-only, --cells REGEX)`,
      );
  }
  return o;
}

/**
 * Runs per cell. A run costs its window in checks (every check drives the whole verdict code), so
 * long windows get fewer runs: `base` up to 1h, then `base·1h/window`, never under `floor`.
 */
const runsFor = (windowMs: number, base: number, floor: number, scale: number) =>
  Math.max(1, Math.round(scale * Math.max(floor, base * Math.min(1, HOUR / windowMs))));

const pct = (k: number, n: number) => `${((100 * k) / Math.max(1, n)).toFixed(2)}%`;
const upper = (x: number) => `≤${(100 * x).toFixed(x < 0.01 ? 2 : 1)}%`;
const time = (ms: number | null) => (ms === null ? '—' : formatDuration(ms));
const pad = (s: string | number, n: number) => String(s).padEnd(n);
const padL = (s: string | number, n: number) => String(s).padStart(n);
const stepName = (s: PlanStep) => `${s.group} ${s.continuous ? `${s.percent}%/1h*` : s.label}`;

interface Planned {
  cell: Cell;
  step: PlanStep;
  canary: Canary;
  load: Load;
}

// ------------------------------------------------- where the rules' assumptions break (issue 22)

/**
 * Runs per cell of the conditions below at scale 1, for windows up to 1h (longer ones get fewer,
 * see `runsFor`): sized with the tables above to about 10 minutes on 2 idle cores. Enough to show
 * where a rule breaks (a rate of several percent), not to bound a healthy one under 0.1%.
 */
const RUNS_BREAKING = { steady: 60, fault: 100 };
/** Heavy-tailed users: Zipf 0.9 over the same 2,000 users (the busiest 1%, 20 users, send 34%). */
const ZIPF = { kind: 'zipf', exponent: 0.9 } as const;
/** Volume between 0.25× and 2× of R: 2× for 3/7 of every 20 minutes, 0.25× for the rest (mean R). */
const SWING: Swing = { shape: 'step', low: 0.25, high: 2, periodMs: 20 * 60_000 };
/** Canaries between the target (1%) and the bar (5%): must hold, never roll back. */
const BETWEEN_RATES = [0.02, 0.03, 0.045];
const FAULT_RATES = [0.1, 0.5];
/** The domain this much slower, behind an exporter without a histogram. */
const SLOWER_MS = 200;
/** β of the SPRT the fault cells are measured against. */
const SPRT_BETA = 0.01;

type Kind = 'steady' | 'between' | 'fault' | 'blind';

interface Condition {
  /** Short name, in tables and the summary. */
  key: string;
  kind: Kind;
  title: string;
  canary(step: PlanStep): Canary;
  load(rps: number): Load;
  /** Fault cells: the domain's error rate while the fault lasts, and whether it starts mid-window. */
  faultRate?: number;
  midWindow?: boolean;
  /** What the operator's plan says beyond the seed's (its cell ids carry `/plan-<tag>`). */
  plan?: { tag: string; patch: (p: Plan) => Plan };
}

interface Breaking {
  condition: Condition;
  cells: Planned[];
}

function breakingConditions(): Condition[] {
  const perRequest = (rps: number): Load => ({
    rps,
    routing: { kind: 'per-request' },
    buckets: BACKEND_BUCKETS,
  });
  const zipf =
    (keys: boolean) =>
    (rps: number): Load => ({
      rps,
      routing: { kind: 'sticky', users: USERS, activity: ZIPF },
      buckets: BACKEND_BUCKETS,
      ...(keys ? {} : { exporter: { keys: false } }),
    });
  const b = DEFAULT_BURSTS;
  const bursts = `×${b.factor} for ${b.share * 100}% of the checks, ${b.meanChecks} checks at a time; ${BASE_ERRORS * 100}% on average`;
  const steady: Condition[] = [
    {
      key: 'bursts shared',
      kind: 'steady',
      title: `errors in bursts shared by legacy and domain (a downstream hiccup: ${bursts})`,
      canary: () => burstyErrors(BASE_ERRORS, 'shared'),
      load: perRequest,
    },
    {
      key: 'bursts canary',
      kind: 'steady',
      title: `errors in bursts on the canary only (${bursts}; legacy a steady ${BASE_ERRORS * 100}%)`,
      canary: () => burstyErrors(BASE_ERRORS, 'domain'),
      load: perRequest,
    },
    {
      key: 'zipf users, keys',
      kind: 'steady',
      title: `sticky, ${USERS} users of Zipf ${ZIPF.exponent} activity, with the routing-keys gauge`,
      canary: () => healthy(BASE_ERRORS),
      load: zipf(true),
    },
    {
      key: 'zipf users, no keys',
      kind: 'steady',
      title: `sticky, ${USERS} users of Zipf ${ZIPF.exponent} activity, without the routing-keys gauge (the plan says \`servedShare.routing: sticky\`)`,
      canary: () => healthy(BASE_ERRORS),
      load: zipf(false),
      plan: { tag: 'sticky', patch: stickyPlan },
    },
    {
      key: 'swings',
      kind: 'steady',
      title: `volume ${SWING.high}× R for ${formatDuration(swingDuty(SWING) * SWING.periodMs)}, then ${SWING.low}× R, every ${formatDuration(SWING.periodMs)} (mean R), per request`,
      canary: () => healthy(BASE_ERRORS),
      load: (rps) => ({ ...perRequest(rps), swing: SWING }),
    },
  ];
  const between = BETWEEN_RATES.map((r): Condition => ({
    key: `canary ${r * 100}%`,
    kind: 'between',
    title: `domain at a constant ${r * 100}% errors from the start, legacy ${BASE_ERRORS * 100}%`,
    canary: () => domainRate(BASE_ERRORS, r),
    load: perRequest,
  }));
  const faults = FAULT_RATES.flatMap((r) =>
    [false, true].map((mid): Condition => ({
      key: `fault ${r * 100}%${mid ? ' mid-window' : ''}`,
      kind: 'fault',
      title: `domain at ${r * 100}% errors ${mid ? 'from mid-window (half the window, 30m into a continuous step)' : 'from the start'}`,
      canary: (step) => domainErrors(BASE_ERRORS, r, mid ? step.windowMs / 2 : 0),
      load: perRequest,
      faultRate: r,
      midWindow: mid,
    })),
  );
  const blind: Condition = {
    key: 'no histogram',
    kind: 'blind',
    title: `metrics without a latency histogram (buckets empty, as HAProxy's exporter gives), domain +${SLOWER_MS}ms (true P95 ${trueP95Ms(DEFAULT_LATENCY).toFixed(0)} → ${trueP95Ms(DEFAULT_LATENCY, 1, SLOWER_MS).toFixed(0)}ms)`,
    canary: () => slowerDomainBy(BASE_ERRORS, SLOWER_MS),
    load: (rps) => ({ ...perRequest(rps), exporter: { histogram: false } }),
  };
  // An operator who knows the service's bursts and says so (`defaults.burstLength`): the bursts of
  // the first two rows again, and what it costs a real fault.
  const declared = { tag: `bursts-${DECLARED_BURST}`, patch: burstPlan };
  const withDeclared: Condition[] = [
    ...steady
      .slice(0, 2)
      .map((c) => ({
        ...c,
        key: `${c.key}, burstLength ${DECLARED_BURST}`,
        title: `${c.title}; the plan says \`burstLength: ${DECLARED_BURST}\``,
        plan: declared,
      })),
    ...faults
      .filter((c) => c.faultRate === FAULT_RATES[0])
      .map((c) => ({
        ...c,
        key: `${c.key}, burstLength ${DECLARED_BURST}`,
        title: `${c.title}; the plan says \`burstLength: ${DECLARED_BURST}\``,
        plan: declared,
      })),
  ];
  return [...steady, ...between, ...faults, blind, ...withDeclared];
}

/** The longest burst the operator's plan declares in the `burstLength` rows. */
const DECLARED_BURST = '2m';

/** The plan of an operator who knows the service's error bursts last up to `DECLARED_BURST`. */
function burstPlan(p: Plan): Plan {
  return { ...p, defaults: { ...p.defaults, burstLength: DECLARED_BURST } };
}

/** The plan of an operator whose router pins users (`servedShare.routing: sticky`). */
function stickyPlan(p: Plan): Plan {
  const t = p.defaults.thresholds;
  return {
    ...p,
    defaults: { ...p.defaults, thresholds: { ...t, servedShare: { ...t.servedShare, routing: 'sticky' } } },
  };
}

/** Every condition at every step of the plan, at each R. */
function breakingCells(
  steps: PlanStep[],
  add: (step: PlanStep, canary: Canary, load: Load, runs: number, plan?: Condition['plan']) => Planned,
  scale: number,
): Breaking[] {
  return breakingConditions().map((condition) => ({
    condition,
    cells: steps.flatMap((step) =>
      RATES.map((r) => {
        const runs =
          condition.kind === 'fault' && !condition.midWindow
            ? runsFor(step.windowMs, RUNS_BREAKING.fault, RUNS_BREAKING.fault / 4, scale)
            : runsFor(step.windowMs, RUNS_BREAKING.steady, RUNS_BREAKING.steady / 6, scale);
        return add(step, condition.canary(step), condition.load(r), runs, condition.plan);
      }),
    ),
  }));
}

/** What `printBreaking` needs of `main`'s results. */
interface Results {
  records: Map<string, RunRecord[]>;
  plan: Plan;
  line: (s?: string) => void;
  ran: (xs: Planned[]) => Planned[];
  sum: (p: Planned) => CellSummary;
  within: (p: Planned) => number;
}

/**
 * A run's first "above target" time, as the step runner records it (`StepOutcome.aboveTargetAtMs`,
 * from `aboveTargetShown` in src/simulate/step-runner.ts, the hook for the judge's notice).
 * `undefined` in records that do not carry it.
 */
type NoticedRecord = RunRecord & { aboveTargetAtMs?: number | null };

/**
 * While `runCell` (src/simulate/experiment.ts) leaves `aboveTargetAtMs` out of its records, the
 * between-bars table runs this many of a cell's runs again on the main thread (same seeds, so the
 * same runs) to read it. Once the records carry it, nothing is run again.
 */
const ABOVE_TARGET_RERUNS = 20;

/**
 * The first "above target" time of each of a cell's runs (null: never shown), from its records or
 * its first runs again; `undefined` when the judge exposes no such notice.
 */
function aboveTargetTimes(cell: Cell, recs: RunRecord[]): Array<number | null> | undefined {
  const rs = recs as NoticedRecord[];
  if (rs.some((r) => r.aboveTargetAtMs !== undefined)) return rs.map((r) => r.aboveTargetAtMs ?? null);
  const out: Array<number | null> = [];
  for (let i = 0; i < Math.min(cell.runs, ABOVE_TARGET_RERUNS); i++) {
    const o = runStep(cell.traffic, cell.step, cell.settings, createRandom(runSeed(cell, i)));
    if (o.aboveTargetAtMs === undefined) return undefined;
    out.push(o.aboveTargetAtMs);
  }
  return out;
}

function printBreaking(breaking: Breaking[], res: Results): void {
  const { records, plan, line, ran, sum, within } = res;
  const t = plan.defaults.thresholds;
  const present = breaking.map((b) => ({ ...b, cells: ran(b.cells) })).filter((b) => b.cells.length);
  if (!present.length) return;
  const interval = present[0].cells[0].cell.traffic.checkIntervalMs;
  const errorAlpha = checkAlpha(t, 'errorRate');
  const rate = (k: number, n: number) => `${pct(k, n)} ${upper(upperBound(k, n))}`;
  const head = (cols: string) => line(`${pad('step', 16)}${padL('R', 4)}  ${padL('runs', 5)}  ${cols}`);
  const rowStart = (p: Planned, s: CellSummary) =>
    `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${padL(s.runs, 5)}  `;
  const triggers = (s: CellSummary) =>
    Object.entries(s.triggers)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '—';
  const reason = (label: string, r: string | undefined) => {
    if (r) line(`  ${label}: ${r.slice(0, 420)}`);
  };
  const firstReason = (cells: Planned[], kind: 'rollbackReasons' | 'holdReasons') => {
    for (const p of cells) {
      const r = sum(p)[kind][0];
      if (r) return `${stepName(p.step)} R=${p.load.rps}: ${r}`;
    }
    return undefined;
  };
  /** Milliseconds from the fault's onset to each rollback after it, ascending. */
  const afterOnset = (p: Planned) => {
    const onset = p.canary.fault?.startsAtMs ?? 0;
    return records
      .get(p.cell.id)!
      .filter((r) => r.outcome === 'rollback' && r.atMs > onset)
      .map((r) => r.atMs - onset)
      .sort((a, b) => a - b);
  };
  const aboveTarget = (p: Planned): string => {
    const times = aboveTargetTimes(p.cell, records.get(p.cell.id)!);
    if (times === undefined) return 'n/a';
    const ms = times.filter((x): x is number => x !== null).sort((a, b) => a - b);
    return `${ms.length ? time(median(ms)) : 'never'} (shown in ${ms.length}/${times.length} runs)`;
  };
  /** Wald's SPRT of the bar against the fault's rate, looking once per check as a rollout does: median checks. */
  const sprtOf = (p: Planned, r: number) => {
    const sprt = { p0: t.errorRate.rollback, p1: r, alpha: errorAlpha, beta: SPRT_BETA };
    const perCheck = (p.load.rps * (p.step.percent / 100) * interval) / 1000;
    const c = sprtChecks(sprt, r, perCheck);
    return { requests: sprtExpectedSamples(sprt, r), checks: c.median, p99: c.p99 };
  };
  /**
   * How many of a cell's runs would alarm a test that meets the fault target with nothing to spare
   * (twice Wald's SPRT of the bar against `p1`, looking once per check, starting again when it
   * falls to its lower bound), run on the same traffic: the conflict between the fault target and
   * bursts no window has shown yet, measured rather than argued.
   */
  const sprtOnTraffic = (p: Planned, p1: number): number => {
    const sprt = { p0: t.errorRate.rollback, p1, alpha: errorAlpha, beta: SPRT_BETA };
    const a = 2 * Math.log((1 - sprt.beta) / sprt.alpha);
    const b = Math.log(sprt.beta / (1 - sprt.alpha));
    const up = Math.log(sprt.p1 / sprt.p0);
    const down = Math.log((1 - sprt.p1) / (1 - sprt.p0));
    const checks = Math.round(p.step.windowMs / interval);
    const rng = createRandom(`sprt-on-traffic/${p.cell.id}`);
    const traffic = { ...p.cell.traffic, percent: p.step.percent, exporter: { ...p.cell.traffic.exporter, histogram: false } };
    let alarms = 0;
    for (let r = 0; r < p.cell.runs; r++) {
      const stream = startTraffic(traffic, rng);
      let llr = 0;
      for (let k = 0; k < checks; k++) {
        const d = stream.next().domain;
        llr += d.errors * up + (d.requests - d.errors) * down;
        if (llr <= b) llr = 0;
        if (llr >= a) {
          alarms++;
          break;
        }
      }
    }
    return alarms;
  };
  const missed: string[] = [];
  const worst = (
    cells: Planned[],
    value: (p: Planned) => number,
    bad: (v: number) => boolean,
    show: (v: number) => string,
  ) => {
    const failing = cells.map((p) => ({ p, v: value(p) })).filter((x) => bad(x.v));
    if (!failing.length) return null;
    const w = failing.reduce((a, x) => (x.v > a.v ? x : a));
    return `${failing.length} of ${cells.length} cells (worst ${show(w.v)} at ${stepName(w.p.step)} R ${w.p.load.rps})`;
  };
  const share = (k: (s: CellSummary) => number) => (p: Planned) => {
    const s = sum(p);
    return k(s) / Math.max(1, s.runs);
  };
  const percent = (v: number) => `${(v * 100).toFixed(1)}%`;

  line('');
  line(`## Where the rules' assumptions break (issue 22): every step of the plan, R ${RATES.join(' and ')}`);
  line(
    `Runs per cell: ${RUNS_BREAKING.steady}·scale (${RUNS_BREAKING.fault}·scale for faults from the start) up to 1h windows, proportionally fewer for longer ones; ` +
      `rates with their exact 95% upper bound. Per request routing unless the condition says otherwise; backend buckets.`,
  );
  const top = (() => {
    const w = userWeights(USERS, ZIPF);
    const all = w.reduce((a, x) => a + x, 0);
    return { onePct: w.slice(0, USERS / 100).reduce((a, x) => a + x, 0) / all, first: w[0] / all };
  })();
  line(
    `Zipf ${ZIPF.exponent}: the busiest 1% of the ${USERS} users send ${percent(top.onePct)} of the requests, the busiest one ${percent(top.first)}.`,
  );

  for (const { condition: c, cells } of present) {
    line('');
    if (c.kind === 'steady') {
      const bursty = cells.some((p) => p.cell.traffic.bursts);
      line(`### ${c.key}: ${c.title}. Target: false rollbacks ≤ 0.1%, holds ≤ 1%`);
      head(
        `${pad('false rollback', 18)}${pad('hold', 18)}${pad('extended', 10)}${bursty ? pad('SPRT ×2', 10) : ''}rolled back by`,
      );
      for (const p of cells) {
        const s = sum(p);
        line(
          `${rowStart(p, s)}${pad(rate(s.rollbacks, s.runs), 18)}${pad(rate(s.holds, s.runs), 18)}${pad(s.extended, 10)}${bursty ? pad(pct(sprtOnTraffic(p, FAULT_RATES[0]), s.runs), 10) : ''}${triggers(s)}`,
        );
      }
      if (bursty)
        line(
          `  (SPRT ×2: runs in which a test allowed twice the SPRT's time to roll back a 10% fault (H0 ${t.errorRate.rollback * 100}%, H1 10%, ` +
            `threshold 2·ln((1−β)/α), restarted like the fault rows' SPRT, on the canary's rate alone) alarms within the same window on the same traffic: ` +
            `the share of these healthy steps a rule would roll back that meets the fault target on the canary's rate and knows nothing of the bursts)`,
        );
      reason('false rollback', firstReason(cells, 'rollbackReasons'));
      reason('hold', firstReason(cells, 'holdReasons'));
      const rb = worst(
        cells,
        share((s) => s.rollbacks),
        (v) => v > 0.001,
        percent,
      );
      const hd = worst(
        cells,
        share((s) => s.holds),
        (v) => v > 0.01,
        percent,
      );
      if (rb) missed.push(`${c.key}: false rollbacks in ${rb}`);
      if (hd) missed.push(`${c.key}: holds over 1% in ${hd}`);
    } else if (c.kind === 'between') {
      line(`### ${c.key}: ${c.title}. Target: never rolled back; held at the window's end`);
      head(
        `${pad('rolled back', 18)}${pad('held at end', 18)}${pad('passed', 10)}first "above target" (median)`,
      );
      for (const p of cells) {
        const s = sum(p);
        line(
          `${rowStart(p, s)}${pad(rate(s.rollbacks, s.runs), 18)}${pad(rate(s.holds, s.runs), 18)}${pad(pct(s.passes, s.runs), 10)}${aboveTarget(p)}`,
        );
      }
      line(
        `  (first "above target": the first check whose judgement carries the judge's notice, median of the runs that showed it; ` +
          `from the records, else from the first ${ABOVE_TARGET_RERUNS} runs run again; n/a: the judge exposes no such notice)`,
      );
      reason('rollback', firstReason(cells, 'rollbackReasons'));
      reason('hold', firstReason(cells, 'holdReasons'));
      const rb = worst(
        cells,
        share((s) => s.rollbacks),
        (v) => v > 0.001,
        percent,
      );
      const ps = worst(
        cells,
        share((s) => s.passes),
        (v) => v > 0,
        percent,
      );
      if (rb) missed.push(`${c.key}: rolled back in ${rb}`);
      if (ps) missed.push(`${c.key}: passed (not held) in ${ps}`);
    } else if (c.kind === 'fault') {
      const r = c.faultRate!;
      line(
        `### ${c.key}: ${c.title}. Target: ≥ 99% rolled back within the window, median ≤ 2× Wald's SPRT` +
          `${r >= 0.5 ? ' and ≤ 3 checks at R 50' : ''}${c.midWindow ? ', times from the onset' : ''}`,
      );
      line(
        `  SPRT: H0 ${t.errorRate.rollback * 100}% (the bar) vs H1 ${r * 100}%, α ${errorAlpha} (errorRate's checkAlpha), β ${SPRT_BETA}; ` +
          `Wald's E[N] ${sprtExpectedSamples({ p0: t.errorRate.rollback, p1: r, alpha: errorAlpha, beta: SPRT_BETA }, r).toFixed(1)} requests; "SPRT checks" is its median when it looks once per check at the cell's requests (simulated, 2,001 runs)`,
      );
      head(
        `${pad('rolled back', 13)}${pad('within window', 15)}${pad('median', 9)}${pad('SPRT checks', 13)}${pad('ratio', 8)}${c.midWindow ? 'before onset' : ''}`,
      );
      const ratios: Array<{ p: Planned; v: number }> = [];
      /** Cells whose window leaves the SPRT itself (at the cell's cadence) too little time for 99% of its runs. */
      const short = new Set<Planned>();
      for (const p of cells) {
        const s = sum(p);
        const times = afterOnset(p);
        const med = median(times);
        const sprt = sprtOf(p, r);
        const ratio = med === null ? null : med / (sprt.checks * interval);
        if (ratio !== null) ratios.push({ p, v: ratio });
        const onset = p.canary.fault?.startsAtMs ?? 0;
        if (sprt.p99 * interval > p.step.windowMs - onset) short.add(p);
        const early = records
          .get(p.cell.id)!
          .filter((x) => x.outcome === 'rollback' && x.atMs <= onset).length;
        line(
          `${rowStart(p, s)}${pad(pct(s.rollbacks, s.runs), 13)}${pad(pct(within(p), s.runs), 15)}${pad(time(med), 9)}` +
            `${pad(`${sprt.checks.toFixed(sprt.checks < 10 ? 1 : 0)}${short.has(p) ? ' >' : ''}`, 13)}${pad(ratio === null ? '—' : ratio.toFixed(2), 8)}${c.midWindow ? early : ''}`,
        );
      }
      if (short.size)
        line(
          `  (> : the window leaves too little time after the onset for 99% of the SPRT's own runs: no test at this budget rolls back 99% within it)`,
        );
      const ww = worst(
        cells,
        (p) => 1 - within(p) / Math.max(1, sum(p).runs),
        (v) => v > 0.01,
        (v) => `${percent(1 - v)} within`,
      );
      const shortMissing = cells.filter((p) => short.has(p) && within(p) < 0.99 * sum(p).runs).length;
      if (ww)
        missed.push(
          `${c.key}: under 99% rolled back within the window in ${ww}` +
            (shortMissing ? ` (${shortMissing} of them too short for 99% of the SPRT's own runs)` : ''),
        );
      const slow = ratios.filter((x) => x.v > 2);
      if (slow.length) {
        const w = slow.reduce((a, x) => (x.v > a.v ? x : a));
        missed.push(
          `${c.key}: median over 2× the SPRT in ${slow.length} of ${cells.length} cells (worst ×${w.v.toFixed(1)} at ${stepName(w.p.step)} R ${w.p.load.rps})`,
        );
      }
      if (r >= 0.5) {
        const late = worst(
          cells.filter((p) => p.load.rps >= 50),
          (p) => (median(afterOnset(p)) ?? Infinity) / interval,
          (v) => v > 3,
          (v) => `${v} checks`,
        );
        if (late) missed.push(`${c.key}: median over 3 checks in ${late}`);
      }
    } else {
      line(`### ${c.key}: ${c.title}. Correct: never pass (the P95 cannot be seen: inconclusive, hold)`);
      head(`${pad('passed (wrong)', 18)}${pad('held', 10)}${pad('rolled back', 13)}`);
      for (const p of cells) {
        const s = sum(p);
        line(
          `${rowStart(p, s)}${pad(pct(s.passes, s.runs), 18)}${pad(pct(s.holds, s.runs), 10)}${pct(s.rollbacks, s.runs)}`,
        );
      }
      reason('hold', firstReason(cells, 'holdReasons'));
      reason('rollback', firstReason(cells, 'rollbackReasons'));
      const ps = worst(
        cells,
        share((s) => s.passes),
        (v) => v > 0,
        percent,
      );
      if (ps) missed.push(`${c.key}: passed in ${ps}`);
    }
  }
  line('');
  line(`### Targets these runs miss${missed.length ? '' : ': none'}`);
  for (const m of missed) line(`- ${m}`);
}

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const cpuAtStart = process.cpuUsage();
  const file = path.resolve(__dirname, '../plans/phase2-3.yaml');
  const loaded = await loadPlan(file);
  if (!loaded.ok) throw new Error(`${file}: ${loaded.problems.map((p) => p.message).join('; ')}`);
  const plan: Plan = loaded.plan;
  const steps = planSteps(plan, HOUR);
  const writeFive = steps.find((s) => s.group === 'write' && s.percent === 5)!;
  const planned: Planned[] = [];
  const byId = new Map<string, Planned>();
  // A cell asked for twice (the 10% fault at write 5%/1h is in two tables) is run once, with the
  // larger number of runs.
  const add = (
    step: PlanStep,
    canary: Canary,
    load: Load,
    runs: number,
    own?: Condition['plan'],
  ): Planned => {
    const cell = cellFor(own ? own.patch(plan) : plan, step, canary, load, runs, o.seed);
    if (own) cell.id += `/plan-${own.tag}`;
    const known = byId.get(cell.id);
    if (known) {
      known.cell.runs = Math.max(known.cell.runs, runs);
      return known;
    }
    const p = { cell, step, canary, load };
    byId.set(cell.id, p);
    planned.push(p);
    return p;
  };
  const perRequest = (rps: number, buckets = BACKEND_BUCKETS): Load => ({
    rps,
    routing: { kind: 'per-request' },
    buckets,
  });
  const sticky = (rps: number): Load => ({
    rps,
    routing: { kind: 'sticky', users: USERS },
    buckets: BACKEND_BUCKETS,
  });

  const healthyCells = steps.flatMap((s) =>
    RATES.flatMap((r) =>
      [perRequest(r), sticky(r)].map((load) =>
        add(s, healthy(BASE_ERRORS), load, runsFor(s.windowMs, RUNS.healthy, RUNS.healthy / 6, o.scale)),
      ),
    ),
  );
  const p95Cells = [1.25, 1.4].flatMap((f) =>
    steps.flatMap((s) =>
      RATES.flatMap((r) =>
        [BACKEND_BUCKETS, FINE_BUCKETS].map((b) =>
          add(
            s,
            slowerDomain(BASE_ERRORS, f),
            perRequest(r, b),
            runsFor(s.windowMs, RUNS.slow, RUNS.slow / 5, o.scale),
          ),
        ),
      ),
    ),
  );
  const p95Fine60 = steps.flatMap((s) =>
    RATES.map((r) =>
      add(
        s,
        slowerDomain(BASE_ERRORS, 1.6),
        perRequest(r, FINE_BUCKETS),
        runsFor(s.windowMs, RUNS.slow, RUNS.slow / 5, o.scale),
      ),
    ),
  );
  const faultRuns = Math.max(1, Math.round(RUNS.fault * o.scale));
  // (The 10% fault at every step, from the start and from mid-window, is in the issue-22 tables below.)
  const fifty = steps
    .filter((s) => !s.continuous)
    .map((s) => add(s, domainErrors(BASE_ERRORS, 0.5), perRequest(50), faultRuns));
  const both = [writeFive, steps.find((s) => s.group === 'write' && s.percent === 50)!].flatMap((s) =>
    RATES.map((r) =>
      add(s, bothFailing(0.015), perRequest(r), runsFor(s.windowMs, RUNS.slow, RUNS.slow / 5, o.scale)),
    ),
  );

  const breaking = breakingCells(steps, add, o.scale);

  const healthySet = new Set(healthyCells);
  const chosen = planned.filter(
    (p) => (!o.healthyOnly || healthySet.has(p)) && (o.cells === null || o.cells.test(p.cell.id)),
  );
  if (chosen.length === 0) throw new Error(`no cell matches --cells ${o.cells?.source}`);
  planned.splice(0, planned.length, ...chosen);
  const totalRuns = planned.reduce((a, p) => a + p.cell.runs, 0);
  let lastShown = 0;
  const records = await runCells(
    planned.map((p) => p.cell),
    {
      threads: o.threads,
      onProgress: (done, total) => {
        if (Date.now() - lastShown < 10_000 && done < total) return;
        lastShown = Date.now();
        process.stderr.write(`  ${done}/${total} runs, ${formatDuration(Date.now() - started)}\n`);
      },
    },
  );
  const cpu = process.cpuUsage(cpuAtStart);
  const checks = planned.reduce(
    (a, p) => a + records.get(p.cell.id)!.reduce((b, r) => b + r.atMs / p.cell.traffic.checkIntervalMs, 0),
    0,
  );
  const sum = (p: Planned): CellSummary => summarize(records.get(p.cell.id)!);
  const within = (p: Planned) =>
    records.get(p.cell.id)!.filter((r) => r.outcome === 'rollback' && r.atMs <= p.step.windowMs).length;
  /** The cells of a table that ran (`--cells` and `--healthy-only` leave some out). */
  const ran = (xs: Planned[]) => xs.filter((p) => records.has(p.cell.id));

  const lines: string[] = [];
  const line = (s = '') => lines.push(s);
  const t = plan.defaults.thresholds;
  line(`# Verdict figures of the seed plan (${plan.name}), rules of src/judge/window-judge.ts`);
  line(
    `seed "${o.seed}", scale ${o.scale}, ${totalRuns} simulated steps, ${o.threads} threads, ` +
      `${formatDuration(Date.now() - started)}; checks every ${plan.defaults.checkInterval}, lookback ${plan.defaults.lookback}, ` +
      `falseRollback ${t.falseRollback}, maxExtensions ${plan.defaults.maxExtensions}, minSamples ${t.minSamples}`,
  );
  line(
    `${(checks / 1e6).toFixed(2)}M checks judged, ${((cpu.user + cpu.system) / 1e6).toFixed(0)} CPU-seconds ` +
      `(${((cpu.user + cpu.system) / checks).toFixed(0)} µs per check, traffic model and verdict code together)`,
  );
  line(
    `traffic: R requests/s of group traffic (Poisson per check), base error rate ${BASE_ERRORS * 100}% on both; latency lognormal, ` +
      `legacy median ${DEFAULT_LATENCY.medianMs}ms σ ${DEFAULT_LATENCY.sigma} (true P95 ${trueP95Ms(DEFAULT_LATENCY).toFixed(1)}ms); ` +
      `sticky = ${USERS} equally active users, each pinned by a uniform bucket 0..99`,
  );
  line(
    `buckets: backend = ${BACKEND_BUCKETS.join(', ')} s; fine = ×1.02 from 60ms to 300ms (${FINE_BUCKETS.length} bounds with the backend's)`,
  );
  line(
    `* continuous step: judged as the workflow judges one (no planned looks, a day of looks at the base threshold), watched for 1h; its "hold" is the verdict at 1h.`,
  );
  line(
    `≤x% = exact 95% upper bound of the rate from these runs. Runs per cell (printed): up to 1h windows ${RUNS.healthy}·scale healthy, ${RUNS.slow}·scale P95 and shared-error cells, ${RUNS.fault}·scale fault cells; longer windows proportionally fewer.`,
  );

  const reasonsOf = (cells: Planned[], kind: 'rollbackReasons' | 'holdReasons') =>
    cells.flatMap((p) =>
      sum(p)[kind].map((r) => `${stepName(p.step)} R=${p.load.rps} ${p.load.routing.kind}: ${r}`),
    );
  if (ran(healthyCells).length) {
    line('');
    line(`## Healthy canary (backend buckets): false rollbacks ≤ 0.1%, holds ≤ 1%`);
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${pad('routing', 22)}${padL('runs', 6)}  ${pad('rollback', 18)}${pad('hold', 18)}extended`,
    );
    for (const p of ran(healthyCells)) {
      const s = sum(p);
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${pad(p.load.routing.kind === 'sticky' ? `sticky ${USERS} users` : 'per request', 22)}${padL(s.runs, 6)}  ` +
          `${pad(`${pct(s.rollbacks, s.runs)} ${upper(s.rollbackUpper)}`, 18)}${pad(`${pct(s.holds, s.runs)} ${upper(s.holdUpper)}`, 18)}${s.extended}`,
      );
    }
    for (const r of reasonsOf(ran(healthyCells), 'rollbackReasons').slice(0, 4))
      line(`  false rollback: ${r.slice(0, 400)}`);
    for (const r of reasonsOf(ran(healthyCells), 'holdReasons').slice(0, 4))
      line(`  hold: ${r.slice(0, 400)}`);
  }

  if (ran(p95Cells).length) {
    line('');
    line(
      `## P95 regressions below the +${t.p95Increase.rollback * 100}% bar: rollbacks ≤ 0.1% (per request routing)`,
    );
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${pad('true P95', 10)}${pad('buckets', 9)}${padL('runs', 6)}  ${pad('rollback', 18)}hold/inconclusive`,
    );
    for (const p of ran(p95Cells)) {
      const s = sum(p);
      const factor = p.canary.fault!.domainLatencyFactor!;
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${pad(`+${Math.round((factor - 1) * 100)}%`, 10)}${pad(p.load.buckets === FINE_BUCKETS ? 'fine' : 'backend', 9)}${padL(s.runs, 6)}  ` +
          `${pad(`${pct(s.rollbacks, s.runs)} ${upper(s.rollbackUpper)}`, 18)}${pct(s.holds, s.runs)}`,
      );
    }
  }

  if (ran(p95Fine60).length) {
    line('');
    const p95Alpha = checkAlpha(t, 'p95');
    const ideal = p95IdealSamples(DEFAULT_LATENCY.sigma, 0.6, t.p95Increase.rollback, p95Alpha, 0.01);
    line(`## True P95 +60%, fine buckets: ≥ 99% rolled back within the window`);
    line(
      `An ideal test (one look at the window's end, legacy's P95 known exactly, no buckets) needs ≈ ${Math.round(ideal)} domain requests ` +
        `for 99% at α ${p95Alpha} (the P95's share of the false-rollback budget): where a window has fewer, no rule reaches 99%.`,
    );
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${padL('domain req.', 12)}  ${padL('runs', 6)}  ${pad('within window', 15)}${pad('at all', 10)}median time`,
    );
    for (const p of ran(p95Fine60)) {
      const s = sum(p);
      const domainRequests = (p.load.rps * p.step.percent * p.step.windowMs) / 100 / 1000;
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${padL(`${Math.round(domainRequests)}${domainRequests < ideal ? ' <' : ''}`, 12)}  ${padL(s.runs, 6)}  ${pad(pct(within(p), s.runs), 15)}${pad(pct(s.rollbacks, s.runs), 10)}${time(s.medianRollbackMs)}`,
      );
    }
    line(`  (< : fewer domain requests in the window than the ideal test needs)`);
  }

  if (ran(fifty).length) {
    line('');
    line(`## 50% domain errors at R = 50: within 3 check intervals`);
    line(
      `${pad('step', 16)}${padL('runs', 6)}  ${pad('median checks', 15)}${pad('worst checks', 14)}rolled back`,
    );
    const interval = fifty[0].cell.traffic.checkIntervalMs;
    for (const p of ran(fifty)) {
      const s = sum(p);
      const checks = s.rollbackMs.map((ms) => ms / interval);
      line(
        `${pad(stepName(p.step), 16)}${padL(s.runs, 6)}  ${pad(s.medianRollbackMs === null ? '—' : s.medianRollbackMs / interval, 15)}` +
          `${pad(checks.length ? checks[checks.length - 1] : '—', 14)}${pct(s.rollbacks, s.runs)}`,
      );
    }
  }

  if (ran(both).length) {
    line('');
    line(`## Legacy and domain both at 1.5% errors: no rollback, the reason names both`);
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${padL('runs', 6)}  ${pad('rollback', 10)}${pad('hold', 10)}pass`,
    );
    for (const p of ran(both)) {
      const s = sum(p);
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${padL(s.runs, 6)}  ${pad(pct(s.rollbacks, s.runs), 10)}${pad(pct(s.holds, s.runs), 10)}${pct(s.passes, s.runs)}`,
      );
    }
    const bothReason = ran(both).flatMap((p) => sum(p).holdReasons)[0];
    if (bothReason) line(`  sample hold reason: ${bothReason.slice(0, 500)}`);
    for (const r of reasonsOf(ran(both), 'rollbackReasons').slice(0, 2))
      line(`  rollback: ${r.slice(0, 400)}`);
  }

  printBreaking(breaking, { records, plan, line, ran, sum, within });
  line('');
  line(`finished in ${formatDuration(Date.now() - started)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench/judgement: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
