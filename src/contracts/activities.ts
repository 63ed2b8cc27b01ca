import type { CheckName, ConsistencyConfig, MetricsConfig, Phase, Plan, TrafficConfig } from '../plan/schema';
import type { InputCheck } from '../plan/rollout-input';
import type { ObservationInput, ObservationResult } from './observation';
import type { ConsistencyReport, MetricsReading, SavedReading, StageReport } from '../judge/samples';
import type { TrafficState } from './traffic';

/** Inputs and outputs of every activity; the workflow imports only these types. */
export interface ApplyTrafficInput {
  traffic: TrafficConfig;
  group: string;
  percent: number;
  /** For the worker's metrics (absent in runs scheduled before it was passed). */
  targetId?: string;
}

export interface RollbackTrafficInput {
  traffic: TrafficConfig;
  group: string;
  mode: 'percent' | 'kill-switch';
  /** For the worker's metrics: the target, why, and when the evidence (or the request) came. */
  targetId?: string;
  trigger?: string;
  evidenceAt?: string;
  /** Every group of the plan: all are read back once the rollback is confirmed, so none is shown at a stale percent. */
  readBack?: string[];
}

export interface RollbackTrafficResult {
  /** The state read back after the rollback: `group` and every `readBack` group. */
  state: TrafficState;
  /** Always true on return: an activity that cannot confirm the rollback throws and is retried. */
  verified: true;
}

export interface VerifyStageInput {
  rolloutId: string;
  target: Plan['target'];
  phase: Pick<Phase, 'name' | 'group' | 'endpoints' | 'command'>;
  percent: number;
  /** The subset of the phase's checks to run now (functional, writeProbe, command, dataConsistency). */
  checks: CheckName[];
}

export interface SampleMetricsInput {
  metrics: MetricsConfig;
  /** Distinguishes readers of one metrics source (the rollout id), for providers that keep the last reading. */
  key: string;
  /** `previous`: the group's last reading as the caller keeps it (see `MetricsQuery.previous`). */
  groups: Array<{ group: string; endpoints: string[]; previous?: SavedReading | null }>;
  /** ISO times of the interval to sample. */
  from: string;
  to: string;
}

export interface CheckConsistencyInput {
  consistency: ConsistencyConfig;
}

/**
 * What a notification is about; `rollback-failing` is the alert of a rollback the target has not
 * confirmed yet, `blind` a check the metrics cannot feed (it will hold the step until fixed).
 */
export type NotifyKind =
  | 'awaiting-approval'
  | 'above-target'
  | 'blind'
  | 'holding'
  | 'rollback-failing'
  | 'rolled-back'
  | 'completed';

export interface NotifyInput {
  webhookUrl: string;
  /** Same key on a retry: the receiver may drop duplicates. */
  idempotencyKey: string;
  event: { kind: NotifyKind; rolloutId: string; text: string; [k: string]: unknown };
}

/** The activity functions registered on the worker (see `createActivities`). */
export interface RolloutActivities {
  applyTraffic(input: ApplyTrafficInput): Promise<TrafficState>;
  rollbackTraffic(input: RollbackTrafficInput): Promise<RollbackTrafficResult>;
  verifyStage(input: VerifyStageInput): Promise<StageReport>;
  sampleMetrics(input: SampleMetricsInput): Promise<MetricsReading>;
  observeWindow(input: ObservationInput): Promise<ObservationResult>;
  checkConsistency(input: CheckConsistencyInput): Promise<ConsistencyReport>;
  notify(input: NotifyInput): Promise<void>;
  /** The workflow's input (without what a continued run carries) checked, in the worker. */
  validateRolloutInput(input: unknown): Promise<InputCheck>;
}
