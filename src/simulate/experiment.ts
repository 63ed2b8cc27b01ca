/**
 * Many seeded runs of one scenario ("a cell" of a table) and what they add up to. Each run has a
 * seed of its own, derived from the table's seed, the cell and the run's number, so a cell gives
 * the same figures however its runs are split between threads.
 */
import { median, upperBound } from './figures';
import { createRandom } from './random';
import { runStep, type JudgeSettings, type StepOutcome, type StepSpec } from './step-runner';
import type { TrafficSettings } from './traffic-model';

/** One scenario, run `runs` times. Plain data: it is handed to worker threads. */
export interface Cell {
  id: string;
  seed: string;
  runs: number;
  traffic: TrafficSettings;
  step: StepSpec;
  settings: JudgeSettings;
}

/** What a run keeps: enough to count and time, one reason for the record. */
export interface RunRecord {
  outcome: StepOutcome['outcome'];
  atMs: number;
  extensions: number;
  trigger?: string;
  reason?: string;
  /** When the judge first said "above target, below the rollback bar" (null: never). */
  aboveTargetAtMs?: number | null;
}

/** Reasons kept per cell and outcome (the first runs that had one). */
const KEPT_REASONS = 3;

export function runSeed(cell: Cell, run: number): string {
  return `${cell.seed}/${cell.id}/${run}`;
}

/** Runs `from` ≤ run < `to` of a cell. Only the first few non-passing runs keep their reason. */
export function runCell(cell: Cell, from = 0, to = cell.runs): RunRecord[] {
  const out: RunRecord[] = [];
  const kept = { rollback: 0, hold: 0, pass: KEPT_REASONS };
  for (let i = from; i < to; i++) {
    const o = runStep(cell.traffic, cell.step, cell.settings, createRandom(runSeed(cell, i)));
    const keep = kept[o.outcome]++ < KEPT_REASONS;
    out.push({
      outcome: o.outcome,
      atMs: o.atMs,
      extensions: o.extensions,
      trigger: o.trigger,
      reason: keep ? o.reasons.join(' | ') : undefined,
      ...(o.aboveTargetAtMs !== undefined ? { aboveTargetAtMs: o.aboveTargetAtMs } : {}),
    });
  }
  return out;
}

/** The figures of a cell. */
export interface CellSummary {
  runs: number;
  rollbacks: number;
  holds: number;
  passes: number;
  /** Runs that needed at least one extension. */
  extended: number;
  /** Milliseconds to each rollback, ascending. */
  rollbackMs: number[];
  medianRollbackMs: number | null;
  /** 95% upper bounds of the rollback and hold rates (exact binomial). */
  rollbackUpper: number;
  holdUpper: number;
  triggers: Record<string, number>;
  rollbackReasons: string[];
  holdReasons: string[];
}

export function summarize(records: RunRecord[]): CellSummary {
  const rollbackMs = records
    .filter((r) => r.outcome === 'rollback')
    .map((r) => r.atMs)
    .sort((a, b) => a - b);
  const count = (o: RunRecord['outcome']) => records.filter((r) => r.outcome === o).length;
  const triggers: Record<string, number> = {};
  for (const r of records) if (r.trigger) triggers[r.trigger] = (triggers[r.trigger] ?? 0) + 1;
  const reasons = (o: RunRecord['outcome']) =>
    records
      .filter((r) => r.outcome === o && r.reason)
      .map((r) => r.reason!)
      .slice(0, KEPT_REASONS);
  const rollbacks = count('rollback');
  const holds = count('hold');
  return {
    runs: records.length,
    rollbacks,
    holds,
    passes: count('pass'),
    extended: records.filter((r) => r.extensions > 0).length,
    rollbackMs,
    medianRollbackMs: median(rollbackMs),
    rollbackUpper: upperBound(rollbacks, records.length),
    holdUpper: upperBound(holds, records.length),
    triggers,
    rollbackReasons: reasons('rollback'),
    holdReasons: reasons('hold'),
  };
}
