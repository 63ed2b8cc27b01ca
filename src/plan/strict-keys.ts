import { z } from 'zod';
import { closest, shown } from './suggest';

/** One problem in a plan, with where it is (`phases[1].steps[0].percent`). */
export interface PlanProblem {
  path: string;
  message: string;
}

/** `['phases', 1, 'approvl']` → `phases[1].approvl`; keys that are not names are quoted. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${shown(String(key))}]`;
  }
  return out || '(plan)';
}

/**
 * Keys that start with `x-` are comments and YAML anchor holders (`x-write-defaults: &w {...}`):
 * allowed in every mapping of fixed keys and dropped before validation, so they never reach the
 * validated plan or the workflow.
 */
export const isCommentKey = (key: string): boolean => key.startsWith('x-');

/** Names every JavaScript object answers to. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Defaults, optionals and refinements wrap the schema that says which keys exist. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable)
      s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else break;
  }
  return s;
}

/** Sets `key` as an own property even when it is `__proto__`. */
function put(out: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
}

function unknownKey(key: string, known: string[]): string {
  const guess = closest(key, known);
  return guess
    ? `unknown key; did you mean "${guess}"?`
    : `unknown key (expected one of: ${known.join(', ')})`;
}

/**
 * Walks `value` beside `schema`: every key a strict object does not know becomes a problem (with a
 * suggestion), comment keys are dropped. Returns a copy holding only known keys, so the schema's
 * own strictness never reports the same key twice. Follows only the schema's shape, so it ends
 * even on self-referencing input (YAML aliases).
 */
export function checkKeys(
  schema: z.ZodType,
  value: unknown,
  path: PropertyKey[],
  problems: PlanProblem[],
): unknown {
  const s = unwrap(schema);
  if (s instanceof z.ZodObject && isRecord(value)) {
    const shape = s.shape as Record<string, z.ZodType>;
    const known = Object.keys(shape);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (isCommentKey(key)) continue;
      if (Object.prototype.hasOwnProperty.call(shape, key))
        put(out, key, checkKeys(shape[key], value[key], [...path, key], problems));
      else problems.push({ path: formatPath([...path, key]), message: unknownKey(key, known) });
    }
    return out;
  }
  if (s instanceof z.ZodArray && Array.isArray(value))
    return value.map((v, i) => checkKeys(s.element as z.ZodType, v, [...path, i], problems));
  if (s instanceof z.ZodDiscriminatedUnion && isRecord(value)) {
    const key = s._zod.def.discriminator;
    const option = (s.options as z.ZodType[]).find((o) => {
      const tag = o instanceof z.ZodObject ? (o.shape as Record<string, z.ZodType>)[key] : undefined;
      return tag instanceof z.ZodLiteral && tag.values.has(value[key] as never);
    });
    // An unknown `type` is the schema's to report; its other keys cannot be judged without one.
    return option ? checkKeys(option, value, path, problems) : value;
  }
  if (s instanceof z.ZodRecord && isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // zod leaves such keys out of the record it builds: the plan would lose them without a word.
      if (RESERVED_KEYS.has(key)) {
        problems.push({
          path: formatPath([...path, key]),
          message: 'reserved name (__proto__, constructor and prototype cannot be keys here)',
        });
        continue;
      }
      put(out, key, checkKeys(s._zod.def.valueType as z.ZodType, value[key], [...path, key], problems));
    }
    return out;
  }
  return value;
}
