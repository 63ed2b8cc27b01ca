/**
 * Evidence rows (one per check and group, `EvidenceRow`) merged into fewer, wider ones, so that
 * what an observation returns and what a rollout keeps stay bounded while every request is still
 * counted. Pure; used by the observing activity and the workflow's budget.
 */
import type { EvidenceRow } from './observation';

/**
 * Two neighbouring checks as one: requests and errors add up; a P95 is the larger of the two
 * (no more than either side's worst is claimed), the time is the later check's.
 */
export function mergeRows(a: EvidenceRow, b: EvidenceRow): EvidenceRow {
  const worst = (x: number | null | undefined, y: number | null | undefined) =>
    x == null ? (y ?? null) : y == null ? x : Math.max(x, y);
  const row: EvidenceRow = [b[0], b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4], a[5] + b[5]];
  if (a.length > 6 || b.length > 6) row.push(worst(a[6], b[6]), worst(a[7], b[7]));
  return row;
}

/** Halves a row list by merging neighbours, the newest row kept as is when the count is odd. */
export function halve(rows: EvidenceRow[]): EvidenceRow[] {
  const out: EvidenceRow[] = [];
  const start = rows.length % 2;
  if (start) out.push(rows[0]);
  for (let i = start; i + 1 < rows.length; i += 2) out.push(mergeRows(rows[i], rows[i + 1]));
  return out;
}
