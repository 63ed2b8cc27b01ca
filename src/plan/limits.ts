/**
 * Hard limits shared by the plan schema, the loader, the CLI and the workflow input. Kept free of
 * Node APIs: the workflow bundle imports it. Each is a bound past which a plan stops meaning what
 * it says (no checks run, ids Temporal refuses, payloads Temporal refuses).
 */
export const LIMITS = {
  /** A plan file, checked before parsing. */
  planBytes: 256 * 1024,
  /** `target.id`: part of the workflow id (Temporal allows 1,000 characters). */
  targetIdLength: 200,
  /** `checkInterval`. */
  checkIntervalMs: { min: 1_000, max: 10 * 60_000 },
  /** A step's `observe` window (and at least `checkInterval`). */
  observeMaxMs: 30 * 86_400_000,
  /** `lookback`. */
  lookbackMs: { min: 1_000, max: 86_400_000 },
  /** `baselineWindow`. */
  baselineWindowMs: { min: 1_000, max: 86_400_000 },
  /** `timeScale` (workflow input and `--time-scale`): divides every duration. */
  timeScale: { min: 0.001, max: 100_000 },
  /** The rendered workflow input; Temporal refuses payloads above 2 MB. */
  workflowInputBytes: 512 * 1024,
} as const;
