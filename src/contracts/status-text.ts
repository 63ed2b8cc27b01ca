/**
 * Status in words, shared by the CLI (`status`, `watch`) and the workflow (the current details
 * Temporal's UI shows): pure, no I/O, no clock.
 */
import type { RolloutStatus } from './definitions';

/** `1h02m`, `4m05s`, `12s`, `850ms`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

/** The figures of a check, in words an operator reads at a glance. */
export function fmtMetrics(m: Record<string, number | string | null> | null | undefined): string {
  if (!m) return '';
  const n = (k: string): number | null => (typeof m[k] === 'number' ? (m[k] as number) : null);
  const parts: string[] = [];
  if (n('errorRate') !== null) parts.push(`errors ${pct(n('errorRate')!)}`);
  if (n('successRate') !== null) parts.push(`success ${pct(n('successRate')!)}`);
  if (n('p95DomainMs') !== null) {
    const ref = n('p95ReferenceMs');
    const inc = n('p95Increase');
    parts.push(
      `p95 ${n('p95DomainMs')!.toFixed(1)}ms` +
        (ref !== null ? ` vs ${ref.toFixed(1)}ms` : '') +
        (inc !== null ? ` (${inc >= 0 ? '+' : ''}${(inc * 100).toFixed(0)}%)` : ''),
    );
  }
  if (n('servedShare') !== null) {
    const want = n('expectedShare');
    parts.push(
      `served ${pct(n('servedShare')!)}${want !== null ? ` (want ${(want * 100).toFixed(0)}%)` : ''}`,
    );
  }
  if (n('samples') !== null) parts.push(`n=${n('samples')}`);
  if (n('consistencyChecked') !== null)
    parts.push(`consistency ${n('consistencyDifferences') ?? 0} diff / ${n('consistencyChecked')} records`);
  if (n('functionalChecked') !== null)
    parts.push(
      `functional ${n('functionalChecked')} checked${n('functionalFailures') ? `, ${n('functionalFailures')} failed` : ''}`,
    );
  return parts.join(' · ');
}

const TERMINAL = new Set(['rolled-back', 'completed', 'failed']);

export function nextCommand(s: RolloutStatus): string | null {
  if (TERMINAL.has(s.state)) return null;
  const who = s.plan.approvers?.[0] ?? 'NAME';
  if (s.awaiting?.kind === 'approval' || s.awaiting?.kind === 'hold')
    return `npx rollout approve ${s.rolloutId} --by ${who}   (or: npx rollout rollback ${s.rolloutId} --by ${who} --reason "...")`;
  if (s.awaiting?.kind === 'complete') return `npx rollout complete ${s.rolloutId} --by ${who}`;
  if (s.state === 'paused') return `npx rollout resume ${s.rolloutId} --by ${who}`;
  return null;
}
