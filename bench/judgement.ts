/**
 * The standard table of issue 7's "Figures to reach": the seed plan's own verdict code
 * (`src/judge/window-judge.ts`) driven through thousands of simulated steps of synthetic
 * traffic (`src/simulate/`). Not a timed test: it prints figures.
 *
 *   npm run bench:judgement [-- --seed S --scale X --threads N --healthy-only]
 *
 * `--scale` multiplies every cell's runs (0.1 for a quick look, 3 to push the healthy bounds
 * under 0.1% where the window is short). Runs per cell are printed with every figure.
 */
import path from 'node:path';
import { formatDuration } from '../src/plan/duration';
import { loadPlan } from '../src/plan/load';
import type { Plan } from '../src/plan/schema';
import type { Cell } from '../src/simulate/experiment';
import { summarize, type CellSummary } from '../src/simulate/experiment';
import { p95IdealSamples, sprtExpectedSamples } from '../src/simulate/figures';
import { defaultThreads, runCells } from '../src/simulate/pool';
import {
  bothFailing,
  cellFor,
  domainErrors,
  healthy,
  planSteps,
  slowerDomain,
  type Canary,
  type Load,
  type PlanStep,
} from '../src/simulate/scenarios';
import { BACKEND_BUCKETS, DEFAULT_LATENCY, FINE_BUCKETS, trueP95Ms } from '../src/simulate/traffic-model';
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
}

function parseArgs(argv: string[]): Options {
  const o: Options = { seed: 'judgement-1', scale: 1, threads: defaultThreads(), healthyOnly: false };
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
    else throw new Error(`unknown option ${flag} (--seed S, --scale X, --threads N, --healthy-only)`);
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
  const add = (step: PlanStep, canary: Canary, load: Load, runs: number) => {
    const p = { cell: cellFor(plan, step, canary, load, runs, o.seed), step, canary, load };
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
  const tenPct = RATES.map((r) => add(writeFive, domainErrors(BASE_ERRORS, 0.1), perRequest(r), faultRuns));
  const midWindow = RATES.map((r) =>
    add(writeFive, domainErrors(BASE_ERRORS, 0.1, writeFive.windowMs / 2), perRequest(r), faultRuns),
  );
  const fifty = steps
    .filter((s) => !s.continuous)
    .map((s) => add(s, domainErrors(BASE_ERRORS, 0.5), perRequest(50), faultRuns));
  const both = [writeFive, steps.find((s) => s.group === 'write' && s.percent === 50)!].flatMap((s) =>
    RATES.map((r) =>
      add(s, bothFailing(0.015), perRequest(r), runsFor(s.windowMs, RUNS.slow, RUNS.slow / 5, o.scale)),
    ),
  );

  if (o.healthyOnly) planned.splice(0, planned.length, ...healthyCells);
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

  line('');
  line(`## Healthy canary (backend buckets): false rollbacks ≤ 0.1%, holds ≤ 1%`);
  line(
    `${pad('step', 16)}${padL('R', 4)}  ${pad('routing', 22)}${padL('runs', 6)}  ${pad('rollback', 18)}${pad('hold', 18)}extended`,
  );
  for (const p of healthyCells) {
    const s = sum(p);
    line(
      `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${pad(p.load.routing.kind === 'sticky' ? `sticky ${USERS} users` : 'per request', 22)}${padL(s.runs, 6)}  ` +
        `${pad(`${pct(s.rollbacks, s.runs)} ${upper(s.rollbackUpper)}`, 18)}${pad(`${pct(s.holds, s.runs)} ${upper(s.holdUpper)}`, 18)}${s.extended}`,
    );
  }
  const reasonsOf = (cells: Planned[], kind: 'rollbackReasons' | 'holdReasons') =>
    cells.flatMap((p) =>
      sum(p)[kind].map((r) => `${stepName(p.step)} R=${p.load.rps} ${p.load.routing.kind}: ${r}`),
    );
  for (const r of reasonsOf(healthyCells, 'rollbackReasons').slice(0, 4))
    line(`  false rollback: ${r.slice(0, 400)}`);
  for (const r of reasonsOf(healthyCells, 'holdReasons').slice(0, 4)) line(`  hold: ${r.slice(0, 400)}`);

  if (!o.healthyOnly) {
    line('');
    line(
      `## P95 regressions below the +${t.p95Increase.rollback * 100}% bar: rollbacks ≤ 0.1% (per request routing)`,
    );
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${pad('true P95', 10)}${pad('buckets', 9)}${padL('runs', 6)}  ${pad('rollback', 18)}hold/inconclusive`,
    );
    for (const p of p95Cells) {
      const s = sum(p);
      const factor = p.canary.fault!.domainLatencyFactor!;
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${pad(`+${Math.round((factor - 1) * 100)}%`, 10)}${pad(p.load.buckets === FINE_BUCKETS ? 'fine' : 'backend', 9)}${padL(s.runs, 6)}  ` +
          `${pad(`${pct(s.rollbacks, s.runs)} ${upper(s.rollbackUpper)}`, 18)}${pct(s.holds, s.runs)}`,
      );
    }

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
    for (const p of p95Fine60) {
      const s = sum(p);
      const domainRequests = (p.load.rps * p.step.percent * p.step.windowMs) / 100 / 1000;
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${padL(`${Math.round(domainRequests)}${domainRequests < ideal ? ' <' : ''}`, 12)}  ${padL(s.runs, 6)}  ${pad(pct(within(p), s.runs), 15)}${pad(pct(s.rollbacks, s.runs), 10)}${time(s.medianRollbackMs)}`,
      );
    }
    line(`  (< : fewer domain requests in the window than the ideal test needs)`);

    line('');
    const sprt = { p0: 0.01, p1: 0.05, alpha: 1e-4, beta: 0.01 };
    line(
      `## 10% domain errors at the ${writeFive.label} step: ≥ 99% rolled back within the window, median ≤ 2× Wald's SPRT ` +
        `(α ${sprt.alpha}, β ${sprt.beta}, ${sprt.p0 * 100}% vs ${sprt.p1 * 100}%)`,
    );
    line(
      `${padL('R', 4)}  ${padL('runs', 6)}  ${pad('within window', 15)}${pad('median', 9)}${pad('SPRT E[N] at 10%', 22)}${pad('ratio', 7)}SPRT E[N] at 5%`,
    );
    for (const p of tenPct) {
      const s = sum(p);
      const domainRps = p.load.rps * (writeFive.percent / 100);
      const n10 = sprtExpectedSamples(sprt, 0.1);
      const n5 = sprtExpectedSamples(sprt, sprt.p1);
      const ms10 = (n10 / domainRps) * 1000;
      line(
        `${padL(p.load.rps, 4)}  ${padL(s.runs, 6)}  ${pad(pct(within(p), s.runs), 15)}${pad(time(s.medianRollbackMs), 9)}` +
          `${pad(`${n10.toFixed(0)} req = ${time(ms10)}`, 22)}${pad(s.medianRollbackMs === null ? '—' : (s.medianRollbackMs / ms10).toFixed(2), 7)}` +
          `${n5.toFixed(0)} req = ${time((n5 / domainRps) * 1000)}`,
      );
    }

    line('');
    line(
      `## A 10% error fault that starts mid-window (${time(writeFive.windowMs / 2)} into ${writeFive.label}): as fast as from the start`,
    );
    line(
      `${padL('R', 4)}  ${padL('runs', 6)}  ${pad('within window', 15)}${pad('median after onset', 20)}median from the start`,
    );
    midWindow.forEach((p, i) => {
      const s = sum(p);
      const onset = p.canary.fault!.startsAtMs;
      const after = s.medianRollbackMs === null ? null : s.medianRollbackMs - onset;
      line(
        `${padL(p.load.rps, 4)}  ${padL(s.runs, 6)}  ${pad(pct(within(p), s.runs), 15)}${pad(time(after), 20)}${time(sum(tenPct[i]).medianRollbackMs)}`,
      );
      const early = records.get(p.cell.id)!.filter((r) => r.outcome === 'rollback' && r.atMs <= onset).length;
      if (early) line(`      (${early} runs rolled back before the onset)`);
    });

    line('');
    line(`## 50% domain errors at R = 50: within 3 check intervals`);
    line(
      `${pad('step', 16)}${padL('runs', 6)}  ${pad('median checks', 15)}${pad('worst checks', 14)}rolled back`,
    );
    const interval = fifty[0].cell.traffic.checkIntervalMs;
    for (const p of fifty) {
      const s = sum(p);
      const checks = s.rollbackMs.map((ms) => ms / interval);
      line(
        `${pad(stepName(p.step), 16)}${padL(s.runs, 6)}  ${pad(s.medianRollbackMs === null ? '—' : s.medianRollbackMs / interval, 15)}` +
          `${pad(checks.length ? checks[checks.length - 1] : '—', 14)}${pct(s.rollbacks, s.runs)}`,
      );
    }

    line('');
    line(`## Legacy and domain both at 1.5% errors: no rollback, the reason names both`);
    line(
      `${pad('step', 16)}${padL('R', 4)}  ${padL('runs', 6)}  ${pad('rollback', 10)}${pad('hold', 10)}pass`,
    );
    for (const p of both) {
      const s = sum(p);
      line(
        `${pad(stepName(p.step), 16)}${padL(p.load.rps, 4)}  ${padL(s.runs, 6)}  ${pad(pct(s.rollbacks, s.runs), 10)}${pad(pct(s.holds, s.runs), 10)}${pct(s.passes, s.runs)}`,
      );
    }
    const bothReason = both.flatMap((p) => sum(p).holdReasons)[0];
    if (bothReason) line(`  sample hold reason: ${bothReason.slice(0, 500)}`);
    for (const r of reasonsOf(both, 'rollbackReasons').slice(0, 2)) line(`  rollback: ${r.slice(0, 400)}`);
  }
  line('');
  line(`finished in ${formatDuration(Date.now() - started)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench/judgement: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
