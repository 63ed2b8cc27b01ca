/**
 * The verdicts of the checks run at a step's start and at its window's end (functional calls, the
 * write probe, the phase's command, database/YAML consistency): each report says pass or fail, so
 * a failure rolls back and a check that could not run is inconclusive.
 */
import type { CheckResult } from './verdicts';
import type { StageReport } from './samples';

/** Judges the verification run at a step's start or a window's end. */
export function evaluateStage(report: StageReport): CheckResult[] {
  const out: CheckResult[] = [];
  const f = report.functional;
  if (f) {
    // No trigger name for "functional" in the contract: unreachable/5xx answers are the domain
    // failing requests (errorRate); wrong shapes are requests not answered correctly (successRate).
    out.push(
      f.ok
        ? {
            check: 'functional',
            verdict: 'pass',
            reason: `functional: ${f.checked} calls passed`,
            figures: { functionalChecked: f.checked },
          }
        : {
            check: 'functional',
            verdict: 'rollback',
            trigger: f.serverErrors > 0 ? 'errorRate' : 'successRate',
            // Said in the reason, since displays lead with the trigger: "rollback successRate: functional …".
            reason: `functional verification failed (${f.serverErrors > 0 ? 'errorRate: answers of 5xx or none' : 'successRate: answers not as expected'}): ${f.failures.join('; ')}`,
            figures: { functionalChecked: f.checked, functionalFailures: f.failures.length },
          },
    );
  }
  const w = report.writeProbe;
  if (w) {
    out.push(
      w.ok
        ? {
            check: 'writeProbe',
            verdict: 'pass',
            reason: `write probe passed (${w.steps.length} steps)`,
            figures: {},
          }
        : {
            check: 'writeProbe',
            verdict: 'rollback',
            trigger: 'writeProbe',
            reason: `write probe failed: ${w.failure ?? 'unknown'}`,
            figures: {},
          },
    );
  }
  const c = report.command;
  if (c) {
    const tail = c.output.trim().split('\n').slice(-3).join(' | ');
    if (c.ok)
      out.push({ check: 'command', verdict: 'pass', reason: 'command exited 0', figures: { exitCode: 0 } });
    else if (c.timedOut)
      out.push({
        check: 'command',
        verdict: 'inconclusive',
        reason: `command timed out: ${tail}`,
        figures: { exitCode: null },
      });
    else
      out.push({
        check: 'command',
        verdict: 'rollback',
        trigger: 'command',
        reason: `command exited ${c.exitCode}: ${tail}`,
        figures: { exitCode: c.exitCode },
      });
  }
  if (report.consistency) out.push(evaluateConsistency(report.consistency));
  return out;
}

export function evaluateConsistency(r: NonNullable<StageReport['consistency']>): CheckResult {
  const figures = { consistencyChecked: r.checked, consistencyDifferences: r.differences.length };
  if (r.error)
    return {
      check: 'dataConsistency',
      verdict: 'inconclusive',
      reason: `data consistency: source error: ${r.error}`,
      figures,
    };
  if (r.ok)
    return {
      check: 'dataConsistency',
      verdict: 'pass',
      reason: `database and YAML agree on ${r.checked} records`,
      figures,
    };
  const shown = r.differences.slice(0, 5).join('; ');
  const more = r.differences.length > 5 ? ` (+${r.differences.length - 5} more)` : '';
  return {
    check: 'dataConsistency',
    verdict: 'rollback',
    trigger: 'dataConsistency',
    figures,
    reason: `database and YAML differ: ${shown}${more}`,
  };
}
