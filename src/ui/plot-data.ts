/**
 * What the rollout page plots, from a `status`: per group, one point per check of every step
 * (the evidence each step keeps) with the lines a decision is drawn against. Pure, so its table
 * tests need no browser; the page only hands the arrays to uPlot.
 */
import type { EvidenceRow } from '../contracts/observation';
import type { RolloutStatus } from '../contracts/definitions';
import { wilson } from '../judge/statistics';

/** A step began (or the rollout rolled back) at `at`: a vertical line on every plot. */
export interface StepMark {
  /** Epoch seconds. */
  at: number;
  label: string;
}

/** One group's plots; every array has one entry per check, `null` where a side had no requests. */
export interface GroupPlots {
  group: string;
  /** Epoch seconds of each check (uPlot's x axis). */
  t: number[];
  /** Error rates of the check's own requests, as fractions. */
  domainErrorRate: Array<number | null>;
  legacyErrorRate: Array<number | null>;
  /**
   * What the served-share rule judges: the share of the step's requests so far that the domain
   * answered, with its interval (not one check's share, which wanders outside the band on a
   * healthy step).
   */
  servedShare: Array<number | null>;
  shareIntervalLow: Array<number | null>;
  shareIntervalHigh: Array<number | null>;
  /** The band the served share must lie in: the step's percent ± the relative tolerance. */
  shareLow: number[];
  shareHigh: number[];
  p95DomainMs: Array<number | null>;
  p95LegacyMs: Array<number | null>;
  /** The legacy P95 before the first step (the reference at 100%), or null. */
  baselineP95Ms: number | null;
  /** The P95 the domain must stay under: the reference × (1 + p95Increase.rollback). */
  p95LimitMs: Array<number | null>;
  steps: StepMark[];
  thresholds: { errorTarget: number; errorRollback: number };
}

const rate = (errors: number, requests: number) => (requests > 0 ? errors / requests : null);

/** The plots of every group that has checks, in plan order. */
export function plotData(
  status: Pick<RolloutStatus, 'plan' | 'history' | 'rollback' | 'baselineP95Ms'>,
): GroupPlots[] {
  const t = status.plan.defaults.thresholds;
  const groups = [...new Set(status.plan.phases.map((p) => p.group))];
  const plots: GroupPlots[] = [];
  for (const group of groups) {
    const baseline = status.baselineP95Ms?.[group] ?? null;
    const g: GroupPlots = {
      group,
      t: [],
      domainErrorRate: [],
      legacyErrorRate: [],
      servedShare: [],
      shareIntervalLow: [],
      shareIntervalHigh: [],
      shareLow: [],
      shareHigh: [],
      p95DomainMs: [],
      p95LegacyMs: [],
      baselineP95Ms: baseline,
      p95LimitMs: [],
      steps: [],
      thresholds: { errorTarget: t.errorRate.target, errorRollback: t.errorRate.rollback },
    };
    for (const entry of status.history) {
      if (entry.group !== group) continue;
      g.steps.push({ at: Date.parse(entry.startedAt) / 1000, label: `${entry.percent}%` });
      const expected = entry.percent / 100;
      const window = { domain: 0, total: 0 };
      for (const row of entry.evidence ?? []) {
        addRow(g, row, expected, t.servedShare.tolerance, t.p95Increase.rollback);
        window.domain += row[2];
        window.total += row[2] + row[4];
        const ci = window.total > 0 ? wilson(window.domain, window.total, t.confidence) : null;
        g.servedShare.push(window.total > 0 ? window.domain / window.total : null);
        g.shareIntervalLow.push(ci?.low ?? null);
        g.shareIntervalHigh.push(ci?.high ?? null);
      }
    }
    if (status.rollback && status.rollback.groups.includes(group))
      g.steps.push({
        at: Date.parse(status.rollback.at) / 1000,
        label: `rollback (${status.rollback.trigger})`,
      });
    if (g.t.length > 0 || g.steps.length > 0) plots.push(g);
  }
  return plots;
}

function addRow(
  g: GroupPlots,
  row: EvidenceRow,
  expected: number,
  tolerance: number,
  p95Rollback: number,
): void {
  const [atMs, , dReq, dErr, lReq, lErr, dP95, lP95] = row;
  g.t.push(atMs / 1000);
  g.domainErrorRate.push(rate(dErr, dReq));
  g.legacyErrorRate.push(rate(lErr, lReq));
  g.shareLow.push(expected * (1 - tolerance));
  g.shareHigh.push(Math.min(1, expected * (1 + tolerance)));
  g.p95DomainMs.push(dP95 ?? null);
  g.p95LegacyMs.push(lP95 ?? null);
  // The same reference the P95 check uses: legacy of the same check, the baseline once legacy is gone.
  const reference = lReq > 0 ? (lP95 ?? null) : g.baselineP95Ms;
  g.p95LimitMs.push(reference === null ? null : reference * (1 + p95Rollback));
}
