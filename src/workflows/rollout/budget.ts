/**
 * A byte budget for what `status` holds and continue-as-new carries. Temporal refuses a query
 * answer past 4 MB (gRPC) and a continue-as-new input past 2 MB (and terminates the run), so the
 * state a rollout keeps must not grow with its length: evidence is downsampled, free text is
 * clipped. Pure; the workflow passes its status in.
 */
import { halve } from '../../contracts/evidence';
import type { HistoryEntry } from '../../contracts/definitions';

/** Evidence rows kept over every step of a rollout (about 70 bytes each: ≈ 420 KB). */
export const EVIDENCE_BUDGET = 6000;
/** Rows a step keeps before they are merged: 8 hours of 10-second checks (2,880) stay whole. */
export const STEP_EVIDENCE = 3600;
/** Longest free text kept in an event, a step's reason or a check's reason. */
export const TEXT_MAX = 1000;
/** Steps kept whole (figures and reason); older closed steps keep their verdict and a short reason. */
export const WHOLE_STEPS = 100;
/** The reason an older step keeps. */
export const OLD_REASON_MAX = 300;

/** `text`, cut to `max` characters with a note of how much was left out. */
export function clip(text: string, max = TEXT_MAX): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 40)}… (${text.length - max + 40} more characters)`;
}

/**
 * Keeps the evidence within budget: a step past `STEP_EVIDENCE` rows is halved, then while every
 * step together holds more than `EVIDENCE_BUDGET`, the step with the most rows is halved (closed
 * steps are coarsened first, so the running one keeps its detail longest). Plots keep their shape
 * with fewer, wider points; totals are unchanged.
 */
export function compactEvidence(history: HistoryEntry[]): void {
  for (const entry of history)
    while (entry.evidence && entry.evidence.length > STEP_EVIDENCE) entry.evidence = halve(entry.evidence);
  let total = history.reduce((n, h) => n + (h.evidence?.length ?? 0), 0);
  while (total > EVIDENCE_BUDGET) {
    let pick: HistoryEntry | undefined;
    for (const h of history) {
      const n = h.evidence?.length ?? 0;
      if (n < 2) continue;
      const closed = h.endedAt !== null;
      const best = pick?.evidence?.length ?? 0;
      const pickClosed = pick ? pick.endedAt !== null : false;
      if (!pick || (closed && !pickClosed && n >= 2) || (closed === pickClosed && n > best)) pick = h;
    }
    if (!pick) return;
    const before = pick.evidence!.length;
    pick.evidence = halve(pick.evidence!);
    total -= before - pick.evidence.length;
  }
}

/**
 * Keeps the step records within budget: the newest `WHOLE_STEPS` stay whole; older closed ones
 * drop their figures (the verdict stays) and keep a short reason. A plan within the limits has up
 * to 1,000 steps, whose figures alone would pass Temporal's 2 MB.
 */
export function compactHistory(history: HistoryEntry[]): void {
  for (let i = 0; i < history.length - WHOLE_STEPS; i++) {
    const h = history[i];
    if (h.endedAt === null) continue;
    if (h.metrics) h.metrics = null;
    if (h.reason && h.reason.length > OLD_REASON_MAX) h.reason = clip(h.reason, OLD_REASON_MAX);
  }
}
