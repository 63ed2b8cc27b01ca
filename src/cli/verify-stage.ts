import { createActivities } from '../activities';
import { formatDuration, parseDuration } from '../plan/duration';
import { checksOf, type CheckName } from '../plan/checks';
import type { Phase, Plan } from '../plan/schema';
import { readShares } from '../providers/traffic';
import { policyFromEnv } from '../providers/policy';
import { combine, type CheckResult, type Evaluation } from '../judge/verdicts';
import { judgeWindow } from '../judge/judge-window';
import { windowContext } from '../judge/window-context';
import { evaluateStage } from '../judge/stage-checks';
import type { GroupSample } from '../judge/samples';
import { p95BucketWarning } from '../judge/window-judge';
import { out } from '../client/action';
import { CliError, EXIT } from '../client/errors';
import { fmtMetrics } from './format';
import type { VerbOptions } from '../client/options';
import { loadPlanForCli } from './plan-file';
import { explainPhases, explainedExit, formatExplain, type PhaseFigure } from './verify-explain';

/** Exit codes of `verify`: pass 0, rollback 1, invalid plan 2, hold or inconclusive 5. */
export const VERIFY_EXIT = { pass: 0, rollback: 1, hold: 5, inconclusive: 5 } as const;

const STAGE_CHECKS: CheckName[] = ['functional', 'writeProbe', 'command', 'dataConsistency'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pickPhases(plan: Plan, wanted: string | undefined, percents: Record<string, number>): Phase[] {
  if (wanted && wanted !== 'auto') {
    const p = plan.phases.find((x) => x.name === wanted || x.group === wanted);
    if (!p)
      throw new CliError(
        `--phase: no phase "${wanted}" in ${plan.name} (phases: ${plan.phases.map((x) => `${x.name} (group ${x.group})`).join(', ')})`,
        EXIT.invalid,
      );
    return [p];
  }
  const live = plan.phases.filter((p) => (percents[p.group] ?? 0) > 0);
  return live.length ? live : [plan.phases[0]];
}

interface PhaseResult {
  phase: string;
  group: string;
  percent: number;
  evaluation: Evaluation;
  /** Things the verdicts cannot show, e.g. P95 buckets too coarse for the threshold. */
  warnings: string[];
}

/**
 * The P95 bucket warning of the window judge for the latencies this sample shows: legacy's (the
 * reference), or at 100% the domain's own, which has taken legacy's traffic.
 */
export function bucketWarnings(sample: GroupSample, plan: Plan, checks: CheckName[]): string[] {
  const t = plan.defaults.thresholds;
  if (!checks.includes('p95')) return [];
  const reference = [sample.legacy, sample.domain].find((s) => s.requests >= t.minSamples);
  const bounds = sample.domain.buckets.map(([le]) => le);
  const warning = reference ? p95BucketWarning(reference, t, bounds) : null;
  return warning ? [`p95: ${warning}`] : [];
}

/**
 * The traffic verdicts of verify's window: the rollout's own judge (`judgeWindow`) on a window of
 * one check, with no baseline (verify measures none: at 100% the P95 has no reference).
 */
export function verifyTraffic(
  sample: GroupSample,
  plan: Plan,
  checks: CheckName[],
  percent: number,
  windowMs: number,
): CheckResult[] {
  const ctx = windowContext({
    thresholds: plan.defaults.thresholds,
    checks,
    percent,
    baseline: null,
    windowMs,
    checkIntervalMs: windowMs,
    lookbackMs: windowMs,
    ...(plan.defaults.burstLength ? { burstLengthMs: parseDuration(plan.defaults.burstLength)! } : {}),
    continuousMs: windowMs,
  });
  return judgeWindow([sample], ctx).results;
}

/**
 * `verify`: reads the traffic switches, samples the metrics for the window, runs the stage checks
 * of every live phase (or `--phase`) and returns the exit code of the overall verdict.
 */
export async function verifyStage(file: string, o: VerbOptions<'verify'>): Promise<number> {
  const windowMs = o.window;
  const { plan, warnings: planWarnings } = await loadPlanForCli(file, { targetUrl: o.targetUrl });
  // What the plan cannot judge (a metrics preset without a histogram, a retired field), as `start` says it.
  if (!o.json) for (const w of planWarnings) out.error(`warning: ${w.path}: ${w.message}`);
  const env = process.env;
  // verify acts itself, with this shell's environment: its policy (ROLLOUT_ALLOW_*) is the worker's.
  let policy;
  try {
    policy = policyFromEnv(env);
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.invalid);
  }
  const refused = policy.planProblems(plan).filter((p) => p.path !== 'notify.webhookUrl');
  if (refused.length)
    throw new CliError(
      `plan ${file} reaches what the worker's policy does not allow (ROLLOUT_ALLOW_* of this shell); nothing was called:`,
      EXIT.invalid,
      refused.map((p) => `  ${p.path}: ${p.message}`),
    );
  const activities = createActivities({ env, policy });
  const groups = plan.phases.map((p) => p.group);
  if (o.phase && o.phase !== 'auto') pickPhases(plan, o.phase, {}); // a wrong name fails before any call

  let percents: Record<string, number>;
  try {
    percents = await readShares(plan.target.traffic, env, groups);
  } catch (err) {
    throw new CliError(
      `cannot read the traffic switches of ${plan.target.id}: ${(err as Error).message}`,
      EXIT.refused,
    );
  }
  const phases = pickPhases(plan, o.phase, percents);
  if (!o.json)
    out.line(
      `verifying ${plan.name} on ${plan.target.baseUrl}: ${groups.map((g) => `${g} ${percents[g]}%`).join(', ')}`,
    );

  // Metrics: one reading to start from (a /metrics scrape needs two), then the window.
  const samples: Record<string, GroupSample | undefined> = {};
  let metricsError: string | undefined;
  const key = `verify-${process.pid}`;
  const sampled = phases.filter((p) => percents[p.group] > 0);
  // The window the samples cover (what --explain asks about): the first reading's, else the second's.
  const window = { from: new Date(Date.now() - windowMs), to: new Date() };
  if (o.metrics && sampled.length) {
    const query = (from: Date, to: Date) =>
      activities.sampleMetrics({
        metrics: plan.target.metrics,
        key,
        groups: sampled.map((p) => ({ group: p.group, endpoints: p.endpoints })),
        from: from.toISOString(),
        to: to.toISOString(),
      });
    const t0 = new Date();
    const first = await query(new Date(t0.getTime() - windowMs), t0);
    const warm = sampled.every((p) => first.samples[p.group] && !first.samples[p.group].warmup);
    Object.assign(window, { from: new Date(t0.getTime() - windowMs), to: t0 });
    if (warm && !first.error) Object.assign(samples, first.samples);
    else {
      if (!o.json) out.line(`sampling metrics for ${formatDuration(windowMs)}…`);
      await sleep(windowMs);
      const end = new Date();
      Object.assign(window, { from: t0, to: end });
      const second = await query(t0, end);
      Object.assign(samples, second.samples);
      metricsError = second.error;
    }
  }

  const results: PhaseResult[] = [];
  for (const phase of phases) {
    const percent = percents[phase.group] ?? 0;
    const checks = checksOf(phase);
    const stage = await activities.verifyStage({
      rolloutId: `verify-${plan.target.id}`,
      target: plan.target,
      phase: {
        name: phase.name,
        group: phase.group,
        endpoints: phase.endpoints,
        command: phase.command,
      },
      percent,
      checks: checks.filter((c) => STAGE_CHECKS.includes(c)),
    });
    const all: CheckResult[] = evaluateStage(stage);
    const sample = samples[phase.group];
    const warnings = o.metrics && percent > 0 && sample ? bucketWarnings(sample, plan, checks) : [];
    if (o.metrics && percent > 0) {
      if (sample) all.push(...verifyTraffic(sample, plan, checks, percent, windowMs));
      else
        all.push({
          check: 'errorRate',
          verdict: 'inconclusive',
          reason: `metrics: ${metricsError ?? 'no sample for this group'}`,
          figures: {},
        });
    }
    results.push({ phase: phase.name, group: phase.group, percent, evaluation: combine(all), warnings });
  }

  const overall = combine(results.flatMap((r) => r.evaluation.results));
  const explained: PhaseFigure[] = o.explain ? await explainPhases({ plan, phases, samples, ...window, env, policy }) : [];
  if (o.json)
    out.line(
      JSON.stringify(
        {
          plan: plan.name,
          percents,
          verdict: overall.verdict,
          warnings: planWarnings.map((w) => `${w.path}: ${w.message}`),
          phases: results,
          ...(o.explain ? { explain: explained } : {}),
        },
        null,
        2,
      ),
    );
  else {
    for (const r of results) {
      out.line('');
      out.line(
        `${r.phase} (group ${r.group}) at ${r.percent}%${r.percent === 0 ? ' — no domain traffic: probes and consistency only' : ''}`,
      );
      for (const c of r.evaluation.results)
        out.line(`  ${c.verdict.padEnd(12)} ${c.check.padEnd(15)} ${c.reason}`);
      const f = fmtMetrics(r.evaluation.metrics);
      if (f) out.line(`  figures: ${f}`);
      for (const w of r.warnings) out.line(`  warning: ${w}`);
      if (o.explain) {
        out.line('  what the metrics sample reads:');
        for (const l of formatExplain(explained.filter((f) => f.phase === r.phase))) out.line(`  ${l}`);
      }
      out.line(`  verdict: ${r.evaluation.verdict}`);
    }
    out.line('');
    // The check that decided, then the rollback trigger it counts as when that is another name.
    const t = overall.trigger;
    const decided = t ? overall.results.find((r) => r.verdict === overall.verdict && r.trigger === t)?.check : undefined;
    const why = !t ? '' : decided && decided !== t ? ` (${decided}, trigger ${t})` : ` (${t})`;
    out.line(`verdict: ${overall.verdict.toUpperCase()}${why}`);
    const blind = explained.filter((f) => f.status === 'blind').length;
    if (blind) out.line(`explain: ${blind} figure${blind === 1 ? '' : 's'} cannot see (BLIND above): exit 5 until the plan or the metrics are fixed`);
  }
  return explainedExit(VERIFY_EXIT[overall.verdict], explained);
}
