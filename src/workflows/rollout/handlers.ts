/**
 * The operator's requests (approve, pause, resume, rollback, complete), each as a signal and as an
 * Update with one guard (guards.ts), and the status query. Every payload is checked where it lands
 * (contracts/requests.ts, the CLI's rules): a bad one is refused by the Update's validator or, as
 * a signal, recorded as refused in bounded form, and no handler throws on input. A refused signal
 * is recorded as an event, so a stock `temporal workflow signal` user sees why nothing changed; a
 * refused Update is rejected by its validator and leaves no trace. An accepted Update answers once
 * its request took effect, or is refused when a rollback, completion or failure overtook it: no
 * handler waits forever.
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
  summaryOf,
  summaryQuery,
  TERMINAL_STATES,
  type CommandOutcome,
  type RolloutState,
  type SignalName,
} from '../../contracts/definitions';
import { checkRequest, type CheckedRequest } from '../../contracts/requests';
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
interface Command {
  name: SignalName;
  signal: wf.SignalDefinition<[unknown]>;
  update: UpdateDefinition<CommandOutcome, [unknown]>;
  refusal: (view: GuardView, request: CheckedRequest) => string | null;
  apply: (request: CheckedRequest) => void;
  /** The request has taken effect (`before`: the state when it was accepted). */
  settled: (before: RolloutState) => boolean;
}

export function registerHandlers(run: RunState): void {
  wf.setHandler(statusQuery, () => run.status);
  wf.setHandler(summaryQuery, () => summaryOf(run.status));
  const now = () => true;
  const ended = () => TERMINAL_STATES.includes(run.status.state);
  register(run, {
    name: 'approve',
    signal: approveSignal as wf.SignalDefinition<[unknown]>,
    update: approveUpdate as UpdateDefinition<CommandOutcome, [unknown]>,
    refusal: approveRefusal,
    apply: (r) => {
      run.cursor.approval = { by: r.by, comment: r.note ?? null };
    },
    // Taken by the stage that waited for it, and the next one begun (or about to, at a step boundary).
    settled: (before) =>
      run.cursor.approval === null &&
      (run.status.state !== before || (run.cursor.stage === 'apply' && !run.cursor.entered)),
  });
  register(run, {
    name: 'pause',
    signal: pauseSignal as wf.SignalDefinition<[unknown]>,
    update: pauseUpdate as UpdateDefinition<CommandOutcome, [unknown]>,
    refusal: pauseRefusal,
    apply: () => {
      run.cursor.paused = true;
      run.refreshState();
    },
    settled: now,
  });
  register(run, {
    name: 'resume',
    signal: resumeSignal as wf.SignalDefinition<[unknown]>,
    update: resumeUpdate as UpdateDefinition<CommandOutcome, [unknown]>,
    refusal: resumeRefusal,
    apply: () => {
      run.cursor.paused = false;
      run.refreshState();
    },
    settled: now,
  });
  register(run, {
    name: 'rollback',
    signal: rollbackSignal as wf.SignalDefinition<[unknown]>,
    update: rollbackUpdate as UpdateDefinition<CommandOutcome, [unknown]>,
    refusal: (v, r) => rollbackRefusal(v, r.group),
    apply: (r) => {
      run.cursor.pendingRollback = {
        trigger: 'manual',
        reason: r.note ?? 'manual rollback',
        group: r.group ?? run.rollbackGroup(),
        by: r.by,
      };
    },
    // Once every group is back and confirmed.
    settled: ended,
  });
  register(run, {
    name: 'complete',
    signal: completeSignal as wf.SignalDefinition<[unknown]>,
    update: completeUpdate as UpdateDefinition<CommandOutcome, [unknown]>,
    refusal: completeRefusal,
    apply: (r) => {
      run.cursor.completion = { by: r.by };
    },
    settled: () => run.status.state === 'completed',
  });
}

/** The checked request, or why the payload is refused (before anything else is looked at). */
function refusalOf(
  run: RunState,
  command: Command,
  payload: unknown,
): { request: CheckedRequest; refused: null } | { request: CheckedRequest | null; refused: string } {
  const checked = checkRequest(command.name, payload);
  if (!checked.ok) return { request: null, refused: checked.problem };
  const request = checked.request;
  const refused = senderRefusal(request.by, run.plan.approvers) ?? command.refusal(run.guardView(), request);
  return refused === null ? { request, refused: null } : { request, refused };
}

/**
 * What overtook an accepted request that has not taken effect: a rollback (for every request but
 * the rollback itself), the rollout's end, or a new run that carries on without it. `null` while
 * it may still take effect.
 */
function overtaken(run: RunState, command: Command): string | null {
  const s = run.status;
  if (run.releasing) return `the rollout continued as a new run before the ${command.name} took effect; send it again if it is still wanted`;
  if (command.name === 'rollback') return s.state === 'failed' ? 'the rollout failed' : null;
  if (s.state === 'rolled-back' || run.cursor.stage === 'rollback' || run.cursor.pendingRollback)
    return `the rollout rolled back${s.rollback ? ` (${s.rollback.trigger}: ${s.rollback.reason})` : run.cursor.pendingRollback ? ` (${run.cursor.pendingRollback.trigger}: ${run.cursor.pendingRollback.reason})` : ''}`;
  if (TERMINAL_STATES.includes(s.state)) return `the rollout is ${s.state}`;
  return null;
}

/** Records an accepted request (or, for a signal, a refused one) in `status.events`, in bounded form. */
function record(run: RunState, name: SignalName, request: CheckedRequest | null, refused: string | null): string {
  const note = request?.note;
  const message =
    refused === null ? `${name} accepted${note ? `: ${note}` : ''}` : `${name} refused: ${refused}`;
  run.event({ kind: 'signal', name, by: request?.by || undefined, accepted: refused === null, message });
  return message;
}

/**
 * The signal applies the request or records why it changed nothing; the Update's validator
 * rejects a refused one with the same words, and its handler answers once the request took effect
 * (or was overtaken). Neither throws on what it is sent.
 */
function register(run: RunState, command: Command): void {
  wf.setHandler(command.signal, (payload) => {
    try {
      const { request, refused } = refusalOf(run, command, payload);
      if (refused === null) command.apply(request);
      record(run, command.name, request, refused);
    } catch (err) {
      // A bug, not the sender's mistake: recorded, never a workflow task that fails on every replay.
      run.event({ kind: 'warning', message: `${command.name} could not be handled: ${err instanceof Error ? err.message.slice(0, 200) : 'unknown error'}` });
    }
  });
  wf.setHandler(
    command.update,
    async (payload) => {
      const { request, refused } = refusalOf(run, command, payload);
      // The validator ran on the same state a moment ago; refuse rather than act if that changed.
      if (refused !== null) throw refusal(command.name, refused);
      const before = run.status.state;
      command.apply(request);
      const message = record(run, command.name, request, null);
      await wf.condition(() => command.settled(before) || overtaken(run, command) !== null);
      if (!command.settled(before)) throw refusal(command.name, `accepted, but ${overtaken(run, command)}`);
      const s = run.status;
      return { message, state: s.state, stage: run.cursor.stage, phase: s.phase, percent: s.percent };
    },
    {
      validator: (payload) => {
        const { refused } = refusalOf(run, command, payload);
        if (refused !== null) throw refusal(command.name, refused);
      },
    },
  );
}

function refusal(name: SignalName, why: string): ApplicationFailure {
  return ApplicationFailure.create({ type: REFUSED, message: `${name} refused: ${why}`, nonRetryable: true });
}
