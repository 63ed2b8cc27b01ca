import { parseDuration } from '../plan/duration';
import { parseEndpoint } from '../plan/endpoints';
import { checksOf } from '../plan/checks';
import type { Phase, Plan } from '../plan/schema';
import type { GroupSample } from '../judge/samples';
import { createMetricsProvider } from '../providers/metrics';
import { isBlind, type FigureExplain } from '../providers/metrics/explain';
import { messageOf } from '../providers/errors';
import type { WorkerPolicy } from '../providers/policy';
import type { Env } from '../providers/settings';

/**
 * `rollout verify --explain` (issue 23, "see what it reads"): asks the plan's metrics provider
 * what each figure of each phase reads, and prints it. The provider finds and words the causes
 * (src/providers/metrics/explain.ts); this file only asks and lays the answer out.
 */

/** One figure of one phase, as printed and as `--json` lists it. */
export interface PhaseFigure extends FigureExplain {
  phase: string;
}

/** What each phase's figures read over `[from, to]`; a source that cannot be asked is one blind figure saying why. */
export async function explainPhases(args: {
  plan: Plan;
  phases: Phase[];
  samples: Record<string, GroupSample | undefined>;
  from: Date;
  to: Date;
  env: Env;
  policy: WorkerPolicy;
}): Promise<PhaseFigure[]> {
  const { plan, policy } = args;
  const out: PhaseFigure[] = [];
  const checkIntervalMs = parseDuration(plan.defaults.checkInterval) ?? 10_000;
  let provider;
  try {
    provider = createMetricsProvider(plan.target.metrics, args.env, { policy });
  } catch (err) {
    return args.phases.map((p) => cannotAsk(p, policy.redact(messageOf(err))));
  }
  for (const phase of args.phases) {
    if (!provider.explain) {
      out.push(cannotAsk(phase, `the ${plan.target.metrics.type} metrics provider cannot explain what it reads`));
      continue;
    }
    try {
      const sample = args.samples[phase.group];
      const figures = await provider.explain({
        key: `verify-explain-${process.pid}`,
        group: phase.group,
        endpoints: phase.endpoints.map(parseEndpoint),
        from: args.from,
        to: args.to,
        checkIntervalMs,
        p95: checksOf(phase).includes('p95'),
        ...(sample ? { sample } : {}),
      });
      out.push(...figures.map((f) => ({ phase: phase.name, ...f })));
    } catch (err) {
      out.push(cannotAsk(phase, policy.redact(messageOf(err))));
    }
  }
  return out;
}

function cannotAsk(phase: Phase, why: string): PhaseFigure {
  return { phase: phase.name, group: phase.group, figure: 'requests', reads: [], series: 0, status: 'blind', diagnosis: why };
}

/** The exit code with the explanation: a figure that cannot see turns a pass into 5 (hold). */
export function explainedExit(code: number, figures: FigureExplain[]): number {
  return code === 0 && figures.some(isBlind) ? 5 : code;
}

const FIGURE_TITLE = { requests: 'requests', latency: 'latency', routingKeys: 'routing keys' } as const;

/** The lines of one phase's figures, indented under the phase. */
export function formatExplain(figures: FigureExplain[]): string[] {
  const lines: string[] = [];
  for (const f of figures) {
    lines.push(`  ${FIGURE_TITLE[f.figure]}: ${f.status === 'ok' ? '' : `${f.status.toUpperCase()}: `}${f.diagnosis}`);
    for (const r of f.reads) lines.push(`    reads: ${r}`);
    const facts = [`${f.series} series matched`];
    if (f.counts) facts.push(`legacy ${f.counts.legacy.toLocaleString('en-US')} / domain ${f.counts.domain.toLocaleString('en-US')}`);
    if (f.scrapeIntervalSeconds !== undefined) facts.push(`scraped every ${f.scrapeIntervalSeconds}s`);
    if (f.reads.length || f.series) lines.push(`    ${facts.join(' · ')}`);
  }
  return lines;
}
