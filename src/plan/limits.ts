/**
 * Hard limits shared by the plan schema, the loader, the CLI and the workflow input. Kept free of
 * Node APIs: the workflow bundle imports it. Each is a bound past which a plan stops meaning what
 * it says (no checks run, ids Temporal refuses, payloads Temporal refuses). README.md ("The plan")
 * lists them for operators: change both together.
 */
export const LIMITS = {
  /** A plan file, checked before parsing. */
  planBytes: 256 * 1024,
  /** How deep a plan file's mappings and lists may nest (the seed plan needs 5). */
  planDepth: 32,
  /** `target.id`: part of the workflow id (Temporal allows 1,000 characters). */
  targetIdLength: 200,
  /** `name`, phase names, approver names. */
  nameLength: 200,
  /** A group name (also a label value and a JSON key at the backend). */
  groupLength: 63,
  /** URLs, file paths, the Prometheus selector and any other free text. */
  stringLength: 2048,
  /** `command.run` and `restartCommand`. */
  commandLength: 4096,
  /** Words of a command given as a list (`set`, `read`, `testCommand`). */
  commandArgs: 64,
  /** A duration as written (`1h30m`). */
  durationLength: 32,
  /** List lengths. */
  phases: 20,
  steps: 50,
  endpoints: 200,
  approvers: 100,
  /** `checkInterval`. */
  checkIntervalMs: { min: 1_000, max: 10 * 60_000 },
  /** A step's `observe` window (and at least `checkInterval`). */
  observeMaxMs: 30 * 86_400_000,
  /** `lookback`. */
  lookbackMs: { min: 1_000, max: 86_400_000 },
  /** `lookback` in checks: the judge keeps each of them in the rollout's state. */
  lookbackChecks: 360,
  /** `burstLength`: the longest error burst a rate rollback waits out. */
  burstLengthMs: { min: 1_000, max: 3_600_000 },
  /** `baselineWindow`. */
  baselineWindowMs: { min: 1_000, max: 86_400_000 },
  /** Every `timeout` and `healthTimeout`. */
  timeoutMs: { min: 100, max: 3_600_000 },
  /** `thresholds.p95Increase.rollback`: a relative increase (10 = +1000%). */
  p95Increase: { min: 0, max: 10 },
  /** `thresholds.p95Increase.minDeltaMs`. */
  minDeltaMs: { min: 0, max: 60_000 },
  /** `thresholds.servedShare.rollbackFactor`: how many times off the configured share a rollback needs. */
  shareRollbackFactor: { min: 1.5, max: 100 },
  /** `thresholds.minSamples`. */
  minSamples: { min: 1, max: 1_000_000 },
  /** `thresholds.confidence` and `rollbackConfidence` (z-scores). */
  zScore: { min: 0.1, max: 10 },
  /** `thresholds.falseRollback`: chance a healthy step is rolled back over its whole window. */
  falseRollback: { minExclusive: 0, max: 0.05 },
  /** `defaults.maxMetricErrors`. */
  maxMetricErrors: { min: 1, max: 1_000 },
  /** `defaults.maxExtensions`. */
  maxExtensions: { min: 0, max: 20 },
  /** `timeScale` (workflow input and `--time-scale`): divides every duration. */
  timeScale: { min: 0.001, max: 100_000 },
  /** The rendered workflow input; Temporal refuses payloads above 2 MB. */
  workflowInputBytes: 512 * 1024,
  /** Problems listed for one plan; past this, a count. */
  problems: 100,
} as const;
