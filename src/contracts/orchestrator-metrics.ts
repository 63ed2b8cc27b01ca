/**
 * What the activities tell the worker's own Prometheus metrics (`src/worker-metrics.ts`). An
 * interface, so activities and their tests need no metrics library; `NO_METRICS` when none is served.
 */
export interface OrchestratorMetrics {
  /** The target confirmed the group at `percent` (an applied step, or a rollback at 0). */
  percentApplied(target: string, group: string, percent: number): void;
  /** A rollback of `group` took effect, `secondsSinceEvidence` after the check that called for it. */
  rolledBack(target: string, group: string, trigger: string, secondsSinceEvidence: number | null): void;
  /** One check of a group, with the verdict it gave. */
  checked(group: string, verdict: string): void;
  /** A metrics source answered with an error or garbage. */
  metricsSourceError(): void;
}

export const NO_METRICS: OrchestratorMetrics = {
  percentApplied() {},
  rolledBack() {},
  checked() {},
  metricsSourceError() {},
};
