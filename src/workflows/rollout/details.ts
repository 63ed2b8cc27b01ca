/**
 * The current details Temporal's Web UI shows on a rollout's page (`setCurrentDetails`, markdown):
 * what it does, what it waits for and the command to run; a rolled-back rollout says so first.
 * Pure: `nowMs` is the workflow's clock.
 */
import { fmtDuration, fmtMetrics, nextCommand } from '../../contracts/status-text';
import type { RolloutStatus } from '../../contracts/definitions';

export function currentDetails(s: RolloutStatus, nowMs: number): string {
  const lines: string[] = [];
  if (s.rollback) {
    const r = s.rollback;
    lines.push(
      `**${r.completedAt ? 'ROLLED BACK' : 'ROLLING BACK'} (${r.trigger})**: ${r.reason}` +
        `${r.by ? ` (by ${r.by})` : ''}; reverted ${r.groups.join(', ')}`,
    );
  }
  const where = s.phase ? ` ${s.phase} (group ${s.group}) at ${s.percent}%` : '';
  let window = '';
  if (s.state === 'paused' && s.windowRemainingMs !== null)
    window = `, window paused with ${fmtDuration(s.windowRemainingMs)} left`;
  else if (s.windowEndsAt)
    window = `, window ${fmtDuration(Math.max(0, Date.parse(s.windowEndsAt) - nowMs))} left`;
  lines.push(`**${s.state}**${where}${window}`);
  const groups = Object.entries(s.groups).map(([g, v]) => `${g} ${v.percent}% ${v.state}`);
  if (groups.length) lines.push(`groups: ${groups.join(' · ')}`);
  if (s.extension)
    lines.push(`window extended ${s.extension.count} of ${s.extension.max}: only ${s.extension.missing}`);
  if (s.lastCheck) {
    const figures = fmtMetrics(s.lastCheck.metrics);
    lines.push(
      `last check ${s.lastCheck.at.slice(11, 19)}Z ${s.lastCheck.group}: ${s.lastCheck.verdict}${figures ? ` (${figures})` : ''}`,
    );
    for (const r of s.lastCheck.reasons.slice(0, 3)) lines.push(`- ${r}`);
  }
  if (s.metricErrors > 0) lines.push(`metrics source: ${s.metricErrors} errors in a row`);
  if (s.awaiting) lines.push(`waiting for ${s.awaiting.kind}: ${s.awaiting.prompt}`);
  const next = nextCommand(s);
  if (next) lines.push(`next: \`${next}\``);
  return lines.join('\n');
}
