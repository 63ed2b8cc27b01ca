import { CancelledFailure, Context } from '@temporalio/activity';
import type { RolloutActivities } from '../../src/contracts/activities';
import { runObservation } from '../../src/activities/observation-loop';
import { inputActivities } from '../../src/activities/validate-input';
import type { GroupSample, ImplStats, MetricsReading, StageReport } from '../../src/judge/samples';

/** A misbehaviour switched on once a group reaches a percent. */
export interface Fault {
  group: string;
  atPercent: number;
  kind:
    | 'errorRate'
    | 'successRate'
    | 'p95'
    | 'servedShare'
    | 'dataConsistency'
    | 'writeProbe'
    | 'command'
    | 'holdErrorRate'
    | 'metricsDown'
    | 'fewSamples'
    | 'sharedErrors';
}

/**
 * Mocked activities for workflow-logic tests: a pretend target whose traffic follows the
 * percent the workflow set, with faults injected at chosen steps. Deterministic numbers.
 */
export class FakeTarget {
  readonly percents: Record<string, number> = {};
  readonly applied: Array<{ group: string; percent: number }> = [];
  readonly rollbacks: Array<{ group: string; mode: string }> = [];
  readonly notifications: Array<{ kind: string; key: string }> = [];
  sampleCalls = 0;
  /**
   * Each observation runs its whole slice (as the real activity does in wall time) instead of one
   * check: the history a production rollout writes, for history budgets and `bench/history.ts`.
   */
  wholeSlices = false;
  faults: Fault[] = [];
  /** Requests per group per sample. */
  volume = 400;
  /**
   * An apply that the target takes (the percent changes) but never confirms: it hangs, beating,
   * until cancelled (`applyCancelled` counts those), after `onStart`.
   */
  stuckApply: { group: string; percent: number; onStart?: () => void } | null = null;
  applyCancelled = 0;
  /**
   * Each observation first takes this long in real time, beating but deaf to cancellation (a slow
   * metrics source): a request that wakes the workflow meanwhile waits for it to settle.
   */
  observeDelayMs = 0;
  /** Observations begun so far. */
  observations = 0;
  /** A kill-switch rollback turned the domain implementation off for every group. */
  killSwitchOff = false;

  private active(group: string, kind: Fault['kind']): boolean {
    return this.faults.some(
      (f) =>
        f.group === group &&
        f.kind === kind &&
        (this.percents[group] ?? 0) >= f.atPercent &&
        (this.percents[group] ?? 0) > 0,
    );
  }

  private sample(group: string): GroupSample {
    const percent = this.percents[group] ?? 0;
    const n = this.active(group, 'fewSamples') ? 0 : this.volume;
    let share = percent / 100;
    if (this.active(group, 'servedShare')) share = share / 2;
    const domainN = Math.round(n * share);
    const legacyN = n - domainN;
    let domainErrors = 0;
    if (this.active(group, 'errorRate')) domainErrors = Math.round(domainN * 0.3);
    if (this.active(group, 'holdErrorRate')) domainErrors = Math.round(domainN * 0.025);
    // Trouble both implementations share (a database): 2.5% errors on each side.
    const shared = this.active(group, 'sharedErrors');
    if (shared) domainErrors = Math.round(domainN * 0.025);
    const clientErrors = this.active(group, 'successRate') ? Math.round(domainN * 0.2) : 0;
    const slow = this.active(group, 'p95');
    const stats = (count: number, errors: number, fail4xx: number, isSlow: boolean): ImplStats => ({
      requests: count,
      errors,
      successes: count - errors - fail4xx,
      // Legacy answers in ~40ms; a slow domain in ~200ms.
      buckets: isSlow
        ? [
            [0.05, 0],
            [0.1, 0],
            [0.25, count],
            [0.5, count],
          ]
        : [
            [0.05, count],
            [0.1, count],
            [0.25, count],
            [0.5, count],
          ],
    });
    const now = new Date().toISOString();
    return {
      from: now,
      to: now,
      domain: stats(domainN, domainErrors, clientErrors, slow),
      legacy: stats(legacyN, shared ? Math.round(legacyN * 0.025) : 0, 0, false),
    };
  }

  activities(): RolloutActivities {
    return {
      applyTraffic: async ({ group, percent }) => {
        this.percents[group] = percent;
        this.applied.push({ group, percent });
        const stuck = this.stuckApply;
        if (stuck && stuck.group === group && stuck.percent === percent) {
          stuck.onStart?.();
          const ctx = Context.current();
          for (let i = 0; i < 600 && !ctx.cancellationSignal.aborted; i++) {
            ctx.heartbeat();
            await new Promise((r) => setTimeout(r, 100));
          }
          if (!ctx.cancellationSignal.aborted) throw new Error(`apply of ${group} ${percent}% never confirmed`);
          // Virtual time runs past the heartbeat timeout of an attempt that waits in real time: only
          // a cancellation the workflow asked for counts.
          if (ctx.cancellationDetails?.cancelRequested) this.applyCancelled += 1;
          throw new CancelledFailure('cancelled');
        }
        return this.state();
      },
      rollbackTraffic: async ({ group, mode }) => {
        if (mode === 'kill-switch') this.killSwitchOff = true;
        else this.percents[group] = 0;
        this.rollbacks.push({ group, mode });
        return { state: this.state(), verified: true };
      },
      verifyStage: async ({ phase, checks }) => {
        const g = phase.group;
        const report: StageReport = { at: new Date().toISOString() };
        if (checks.includes('functional'))
          report.functional = {
            ok: true,
            checked: phase.endpoints.length * 2,
            failures: [],
            serverErrors: 0,
          };
        if (checks.includes('writeProbe'))
          report.writeProbe = this.active(g, 'writeProbe')
            ? { ok: false, steps: ['create'], failure: 'update via domain: YAML not updated' }
            : { ok: true, steps: ['create', 'update', 'delete', 'failed-write'] };
        if (checks.includes('command'))
          report.command = this.active(g, 'command')
            ? { ok: false, exitCode: 2, timedOut: false, output: 'FAIL: /api/v1/alerts/rules' }
            : { ok: true, exitCode: 0, timedOut: false, output: 'all good' };
        if (checks.includes('dataConsistency')) report.consistency = this.consistency(g);
        return report;
      },
      sampleMetrics: async ({ groups }) => this.read(groups),
      // The observation on a virtual clock, from where the last one left off: it returns at once,
      // with the time it observed in its state (the time-skipping server skips no activity's time).
      observeWindow: async (input) => {
        this.observations += 1;
        for (const end = Date.now() + this.observeDelayMs; Date.now() < end; ) {
          Context.current().heartbeat();
          await new Promise((r) => setTimeout(r, 100));
        }
        const scheduled = Context.current().info.currentAttemptScheduledTimestampMs;
        let now = Math.max(input.state.lastCheckAtMs ?? scheduled, scheduled);
        const due = Math.max(now, input.state.nextCheckAt ?? now + input.checkIntervalMs);
        // Exactly one check per call, however far ahead the next one was due: the workflow catches
        // up with the virtual clock on its own timer, so signals land between checks as they
        // would in real time, and every call moves the observation on.
        return runObservation(
          // The slice ends 1 ms past the check, before the next one.
          { ...input, sliceMs: this.wholeSlices ? input.sliceMs : due - now + 1 },
          {
            now: () => now,
            sleep: async (ms) => ((now += ms), true),
            sample: async (groups) => this.read(groups),
            consistency: async () => this.consistency('write'),
            heartbeat: () => undefined,
          },
        );
      },
      checkConsistency: async () => this.consistency('write'),
      notify: async ({ event, idempotencyKey }) => {
        this.notifications.push({ kind: event.kind, key: idempotencyKey });
      },
      // The real check: it is pure, and the workflow's refusals of bad input are what tests see.
      ...inputActivities(),
    };
  }

  private read(groups: Array<{ group: string }>): MetricsReading {
    this.sampleCalls += 1;
    if (groups.some((g) => this.active(g.group, 'metricsDown')))
      return { samples: {}, error: 'connect ECONNREFUSED 127.0.0.1:9090' };
    return { samples: Object.fromEntries(groups.map((g) => [g.group, this.sample(g.group)])) };
  }

  private consistency(group: string) {
    return this.active(group, 'dataConsistency')
      ? { ok: false, checked: 5, differences: ['camera cam-3: name db="Gate" yaml="Door"'] }
      : { ok: true, checked: 5, differences: [] };
  }

  private state() {
    return {
      useDomainService: !this.killSwitchOff,
      groups: Object.fromEntries(Object.entries(this.percents).map(([g, p]) => [g, { percent: p }])),
    };
  }
}
