/**
 * The operator's requests (approve, pause, resume, rollback, complete), each as a signal and as an
 * Update with one guard (guards.ts), and the status query. A refused signal is recorded as an event,
 * so a stock `temporal workflow signal` user sees why nothing changed; a refused Update is rejected
 * by its validator and leaves no trace.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/workflow';
import type { UpdateDefinition } from '@temporalio/common';
import {
  approveSignal,
  approveUpdate,
  completeSignal,
  completeUpdate,
  pauseSignal,
  pauseUpdate,
  REFUSED,
  resumeSignal,
  resumeUpdate,
  rollbackSignal,
  rollbackUpdate,
  statusQuery,
  TERMINAL_STATES,
  type ApproveSignal,
  type CommandOutcome,
  type CompleteSignal,
  type PauseSignal,
  type ResumeSignal,
  type RollbackSignal,
  type RolloutState,
  type SignalName,
} from '../../contracts/definitions';
import {
  approveRefusal,
  completeRefusal,
  pauseRefusal,
  resumeRefusal,
  rollbackRefusal,
  senderRefusal,
  type GuardView,
} from './guards';
import type { RunState } from './run-state';

/** One operator request: its guard, what it does, and when its Update may answer. */
interface Command<P> {
  name: SignalName;
  signal: wf.SignalDefinition<[P]>;
  update: UpdateDefinition<CommandOutcome, [P]>;
  refusal: (view: GuardView, payload: P) => string | null;
  apply: (payload: P) => void;
  /** The request has taken effect (`before`: the state when it was accepted). */
  settled: (before: RolloutState) => boolean;
}

export function registerHandlers(run: RunState): void {
  wf.setHandler(statusQuery, () => run.status);
  const now = () => true;
  const ended = () => TERMINAL_STATES.includes(run.status.state);
  register<ApproveSignal>(run, {
    name: 'approve',
    signal: approveSignal,
    update: approveUpdate,
    refusal: approveRefusal,
    apply: (s) => {
      run.cursor.approval = { by: s.by, comment: s.comment ?? null };
    },
    // Taken by the stage that waited for it, and the next one begun (or about to, at a step boundary).
    settled: (before) =>
      run.cursor.approval === null &&
      (run.status.state !== before || (run.cursor.stage === 'apply' && !run.cursor.entered)),
  });
  register<PauseSignal>(run, {
    name: 'pause',
    signal: pauseSignal,
    update: pauseUpdate,
    refusal: pauseRefusal,
    apply: () => {
      run.cursor.paused = true;
      run.refreshState();
    },
    settled: now,
  });
  register<ResumeSignal>(run, {
    name: 'resume',
    signal: resumeSignal,
    update: resumeUpdate,
    refusal: resumeRefusal,
    apply: () => {
      run.cursor.paused = false;
      run.refreshState();
    },
    settled: now,
  });
  register<RollbackSignal>(run, {
    name: 'rollback',
    signal: rollbackSignal,
    update: rollbackUpdate,
    refusal: (v, s) => rollbackRefusal(v, s.group),
    apply: (s) => {
      run.cursor.pendingRollback = {
        trigger: 'manual',
        reason: s.reason ?? 'manual rollback',
        group: s.group ?? run.phase.group,
        by: s.by,
      };
    },
    // Once every group is back and confirmed.
    settled: ended,
  });
  register<CompleteSignal>(run, {
    name: 'complete',
    signal: completeSignal,
    update: completeUpdate,
    refusal: completeRefusal,
    apply: (s) => {
      run.cursor.completion = { by: s.by };
    },
    settled: ended,
  });
}

/** `by` as sent (trimmed), or '' when the payload has none. */
function senderOf(payload: unknown): string {
  return payload && typeof payload === 'object' && typeof (payload as { by?: unknown }).by === 'string'
    ? (payload as { by: string }).by.trim()
    : '';
}

/** Why the request is refused (the sender first, then the state), or null. */
function refusalOf<P>(run: RunState, command: Command<P>, payload: P): string | null {
  return senderRefusal(senderOf(payload), run.plan.approvers) ?? command.refusal(run.guardView(), payload);
}

/** Records an accepted request (or, for a signal, a refused one) in `status.events`. */
function record(run: RunState, name: SignalName, payload: unknown, refused: string | null): string {
  const by = senderOf(payload);
  const detail = (payload as { reason?: string; comment?: string } | undefined) ?? {};
  const note = detail.reason ?? detail.comment;
  const message =
    refused === null ? `${name} accepted${note ? `: ${note}` : ''}` : `${name} refused: ${refused}`;
  run.event({ kind: 'signal', name, by: by || undefined, accepted: refused === null, message });
  return message;
}

/**
 * The signal applies the request or records why it changed nothing; the Update's validator
 * rejects a refused one with the same words, and its handler answers once the request took effect.
 */
function register<P>(run: RunState, command: Command<P>): void {
  wf.setHandler(command.signal, (payload) => {
    const refused = refusalOf(run, command, payload);
    if (refused === null) command.apply(payload);
    record(run, command.name, payload, refused);
  });
  wf.setHandler(
    command.update,
    async (payload) => {
      const before = run.status.state;
      command.apply(payload);
      const message = record(run, command.name, payload, null);
      await wf.condition(() => command.settled(before));
      const s = run.status;
      return { message, state: s.state, stage: run.cursor.stage, phase: s.phase, percent: s.percent };
    },
    {
      validator: (payload) => {
        const refused = refusalOf(run, command, payload);
        if (refused !== null)
          throw ApplicationFailure.create({
            type: REFUSED,
            message: `${command.name} refused: ${refused}`,
            nonRetryable: true,
          });
      },
    },
  );
}
