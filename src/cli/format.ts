import type { RolloutEvent, RolloutStatus } from '../contracts/definitions';
import { checksOff } from '../plan/checks';
import type { EvidenceRow } from '../contracts/observation';
import { fmtDuration, fmtMetrics, nextCommand } from '../contracts/status-text';

export { fmtDuration, fmtMetrics, nextCommand };

/** Local wall-clock time of an ISO timestamp, `HH:MM:SS`. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toTimeString().slice(0, 8);
}

export function fmtDateTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 10)} ${d.toTimeString().slice(0, 8)}`;
}

export function bar(percent: number, width = 20): string {
  const filled = Math.max(0, Math.min(width, Math.round((percent / 100) * width)));
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** Index of the step a phase is on, its step count, and whether it is the running phase. */
function stepOf(s: RolloutStatus, phaseName: string): { index: number; total: number } {
  const phase = s.plan.phases.find((p) => p.name === phaseName)!;
  const total = phase.steps.length;
  if (s.phase === phaseName) return { index: s.stepIndex, total };
  const done = s.history.filter((h) => h.phase === phaseName);
  return {
    index: done.length ? phase.steps.findIndex((st) => st.percent === done[done.length - 1].percent) : -1,
    total,
  };
}

/** One line per phase: progress bar of its group's share, step, state. */
export function phaseLines(s: RolloutStatus, width = 20): string[] {
  const nameWidth = Math.max(...s.plan.phases.map((p) => p.name.length));
  return s.plan.phases.map((p) => {
    const g = s.groups[p.group] ?? { percent: 0, state: 'pending' };
    const { index, total } = stepOf(s, p.name);
    const step = index >= 0 ? `step ${index + 1}/${total}` : `step -/${total}`;
    const marker = s.phase === p.name ? '▶' : ' ';
    // The current phase's group does not advance (its window does not run) while paused.
    const state = s.state === 'paused' && s.phase === p.name ? `${g.state}, paused` : g.state;
    return `${marker} ${p.name.padEnd(nameWidth)}  ${bar(g.percent, width)} ${String(g.percent).padStart(3)}%  ${step.padEnd(9)} ${state}`;
  });
}

export function windowLine(s: RolloutStatus, now = Date.now()): string | null {
  if (s.state === 'paused' && s.windowRemainingMs !== null)
    return `window paused with ${fmtDuration(s.windowRemainingMs)} left`;
  if (s.windowEndsAt) {
    const left = Date.parse(s.windowEndsAt) - now;
    return `window ${fmtDuration(Math.max(0, left))} left (ends ${fmtTime(s.windowEndsAt)})`;
  }
  return null;
}

/** The `status` command's text view. */
export function renderStatus(s: RolloutStatus, now = Date.now()): string {
  const lines: string[] = [];
  const scale = s.timeScale && s.timeScale !== 1 ? `, time scale ×${s.timeScale}` : '';
  lines.push(`${s.rolloutId}  ${s.plan.name}  (target ${s.plan.target.id}${scale})`);
  const where = s.phase ? ` — ${s.phase} (group ${s.group}) at ${s.percent}%` : '';
  lines.push(`state       ${s.state}${where}`);
  const w = windowLine(s, now);
  if (w) lines.push(`            ${w}`);
  lines.push('phases');
  for (const l of phaseLines(s)) lines.push(`  ${l}`);
  for (const p of s.plan.phases ?? []) {
    const off = checksOff(p);
    if (off.length) lines.push(`  ${p.name}: ${off.join(', ')} off (the plan turns ${off.length === 1 ? 'it' : 'them'} off)`);
  }
  if (s.lastCheck) {
    lines.push(`last check  ${fmtTime(s.lastCheck.at)} ${s.lastCheck.group}: ${s.lastCheck.verdict}`);
    const figures = fmtMetrics(s.lastCheck.metrics);
    if (figures) lines.push(`            ${figures}`);
    for (const r of s.lastCheck.reasons.slice(0, 4)) lines.push(`            - ${r}`);
  } else lines.push('last check  none yet');
  if (s.metricErrors > 0) lines.push(`metrics     ${s.metricErrors} consecutive metrics-source errors`);
  for (const n of s.blind ?? [])
    lines.push(`blind       ${fmtTime(n.at)} ${n.group}: ${n.reason}`);
  for (const n of s.aboveTarget ?? [])
    lines.push(
      n.kind === 'slower'
        ? `notice      ${fmtTime(n.at)} ${n.group}: slower — ${n.reason}`
        : `notice      ${fmtTime(n.at)} ${n.group}: above target, below the rollback bar: this step will hold — ${n.reason}`,
    );
  if (s.awaiting) {
    lines.push(`waiting for ${s.awaiting.kind} since ${fmtTime(s.awaiting.since)}: ${s.awaiting.prompt}`);
  }
  if (s.rollback) {
    const r = s.rollback;
    lines.push(
      `rollback    ${r.trigger}${r.by ? ` by ${r.by}` : ''} at ${fmtTime(r.at)}: ${r.reason}` +
        (r.completedAt
          ? ` (done ${fmtTime(r.completedAt)}; reverted ${r.groups.join(', ')})`
          : ' (in progress)'),
    );
    if (r.failing)
      lines.push(
        `            NOT CONFIRMED: ${r.failing.group} after ${r.failing.attempts} attempts since ${fmtTime(r.failing.since)}: ${r.failing.error}`,
        `            ${r.failing.hint}`,
      );
  }
  const next = nextCommand(s);
  if (next) lines.push(`next        ${next}`);
  return lines.join('\n');
}

/** One event as a log line. */
export function fmtEvent(e: RolloutEvent): string {
  const who = e.by && !e.message.includes(e.by) ? ` (by ${e.by})` : '';
  const tag = e.kind === 'signal' ? (e.accepted ? 'signal' : 'REFUSED') : e.kind;
  return `${fmtTime(e.at)}  ${tag.padEnd(7)} ${e.message}${who}`;
}

/** A step's time series in one line: checks, and the requests and errors of each side. */
export function fmtEvidence(rows: EvidenceRow[] | undefined): string {
  if (!rows?.length) return '';
  const sum = (i: 2 | 3 | 4 | 5) => rows.reduce((n, r) => n + r[i], 0);
  return `evidence: ${rows.length} checks; domain ${sum(2)} requests, ${sum(3)} errors; legacy ${sum(4)} requests, ${sum(5)} errors (history --json has every check)`;
}

/** Left-aligned columns. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/**
 * How much of [from, to] the rollout spent paused, from its state events (`x → paused`,
 * `paused → y`): a window does not run while paused, so a step's actual time leaves it out.
 */
export function pausedMs(events: RolloutEvent[], from: number, to: number): number {
  let total = 0;
  let since: number | null = null;
  for (const e of events) {
    if (e.kind !== 'state') continue;
    const at = Date.parse(e.at);
    if (/ → paused$/.test(e.message) && since === null) since = at;
    else if (/^paused → /.test(e.message) && since !== null) {
      total += Math.max(0, Math.min(at, to) - Math.max(since, from));
      since = null;
    }
  }
  if (since !== null) total += Math.max(0, to - Math.max(since, from));
  return total;
}

/** A reason's parts, split at `; ` outside parentheses (a rule's own figures keep theirs). */
export function reasonParts(reason: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < reason.length; i++) {
    const c = reason[i];
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && c === ';' && reason[i + 1] === ' ') {
      parts.push(reason.slice(from, i));
      from = i + 2;
    }
  }
  parts.push(reason.slice(from));
  return parts.filter((p) => p !== '');
}
