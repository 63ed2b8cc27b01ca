/**
 * What an operator's request (approve, pause, resume, rollback, complete) may carry, checked
 * alike by the CLI's options (client/options.ts) and by the workflow where the signal or Update
 * lands: anyone with the stock `temporal` CLI can send any JSON, and a payload that makes a
 * handler throw fails the workflow task on every replay. Plain functions, no zod (workflow code).
 */
import type { SignalName } from './definitions';

export const REQUEST_LIMITS = {
  /** `by`: a person's name or login; it goes into every event and history entry. */
  byLength: 200,
  /** `comment`, `reason`: kept in the workflow's events, which every status query returns. */
  noteLength: 1000,
  /** `group`: a group name of the plan. */
  nameLength: 200,
} as const;

/** The fields each request takes (`by` required, the rest optional). */
export const REQUEST_FIELDS: Record<SignalName, readonly string[]> = {
  approve: ['by', 'comment'],
  pause: ['by', 'reason'],
  resume: ['by'],
  rollback: ['by', 'reason', 'group'],
  complete: ['by'],
};

/** A request as checked: trimmed text, within bounds. */
export interface CheckedRequest {
  by: string;
  /** `comment` (approve) or `reason` (pause, rollback). */
  note?: string;
  group?: string;
}

// Control characters in a name break the one-line output and the record; notes may hold line breaks.
const CONTROL = /[\u0000-\u001f\u007f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const GROUP = /^[a-z][a-z0-9-]*$/;

/** A value as a message may show it: short, on one line, never the whole of a huge one. */
export function shown(raw: unknown): string {
  if (typeof raw !== 'string') return Array.isArray(raw) ? 'a list' : raw === null ? 'null' : `a ${typeof raw}`;
  const text = JSON.stringify(raw.length > 60 ? `${raw.slice(0, 57)}...` : raw);
  return raw.length > 60 ? `${text}, ${raw.length} characters` : text;
}

export interface TextRule {
  max: number;
  /** What to do about an empty value. */
  hint: string;
  /** Line breaks allowed (notes). */
  lines?: boolean;
}

export const BY_RULE: TextRule = { max: REQUEST_LIMITS.byLength, hint: 'name who sends it' };
export const NOTE_RULE: TextRule = { max: REQUEST_LIMITS.noteLength, hint: 'leave the option out instead', lines: true };

/** Text that is trimmed, not empty, at most `max` characters, without control characters. */
export function checkText(raw: unknown, rule: TextRule): { ok: true; value: string } | { ok: false; problem: string } {
  if (typeof raw !== 'string') return { ok: false, problem: `must be text (got ${shown(raw)})` };
  const s = raw.trim();
  if (s === '') return { ok: false, problem: `must not be empty (got ${shown(raw)}); ${rule.hint}` };
  if (s.length > rule.max) return { ok: false, problem: `must be at most ${rule.max} characters (got ${s.length})` };
  if ((rule.lines ? CONTROL_BUT_LINES : CONTROL).test(s))
    return { ok: false, problem: `must not contain control characters (got ${shown(raw)})` };
  return { ok: true, value: s };
}

/** A group name as plans spell it. */
export function checkGroup(raw: unknown): { ok: true; value: string } | { ok: false; problem: string } {
  if (typeof raw !== 'string' || !GROUP.test(raw) || raw.length > REQUEST_LIMITS.nameLength)
    return { ok: false, problem: `must be a group name of the plan, lower-case like "read" (got ${shown(raw)})` };
  return { ok: true, value: raw };
}

/**
 * Checks a request's payload: a JSON object with the request's fields only, each within bounds.
 * Never throws, whatever it is given; a problem names the field and never echoes a huge value.
 */
export function checkRequest(
  name: SignalName,
  payload: unknown,
): { ok: true; request: CheckedRequest } | { ok: false; problem: string } {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    return { ok: false, problem: `the payload must be a JSON object like {"by": "alice"} (got ${shown(payload)})` };
  const fields = REQUEST_FIELDS[name];
  const keys = Object.keys(payload);
  const unknown = keys.filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    const list = unknown.slice(0, 3).map((k) => shown(k)).join(', ');
    return { ok: false, problem: `unknown field${unknown.length > 1 ? 's' : ''} ${list}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''} (${name} takes ${fields.join(', ')})` };
  }
  const p = payload as Record<string, unknown>;
  const by = checkText(p.by, BY_RULE);
  if (!by.ok) return { ok: false, problem: `"by" ${p.by === undefined ? 'is required (who sends the signal)' : by.problem}` };
  const request: CheckedRequest = { by: by.value };
  const noteField = fields.find((f) => f === 'comment' || f === 'reason');
  if (noteField && p[noteField] !== undefined) {
    const note = checkText(p[noteField], NOTE_RULE);
    if (!note.ok) return { ok: false, problem: `"${noteField}" ${note.problem}` };
    request.note = note.value;
  }
  if (fields.includes('group') && p.group !== undefined) {
    const group = checkGroup(p.group);
    if (!group.ok) return { ok: false, problem: `"group" ${group.problem}` };
    request.group = group.value;
  }
  return { ok: true, request };
}
