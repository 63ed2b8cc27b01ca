import type { z } from 'zod';
import { closest, shown } from './suggest';

/**
 * Messages a person reads, in place of zod's defaults ("expected string, received undefined").
 * Messages given in the schema itself win over these. Pure: the workflow bundle imports it.
 */

function described(input: unknown): string {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  switch (typeof input) {
    case 'string':
      return `the text ${shown(input, 30)}`;
    case 'number':
      return Number.isFinite(input) ? `the number ${input}` : String(input);
    case 'boolean':
      return String(input);
    case 'object':
      return 'a mapping';
    default:
      return typeof input;
  }
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value)',
  record: 'a mapping (key: value)',
};

function oneOf(values: readonly unknown[], input: unknown): string {
  const list = values.map((v) => JSON.stringify(v)).join(', ');
  const strings = values.filter((v): v is string => typeof v === 'string');
  const guess = typeof input === 'string' ? closest(input, strings) : undefined;
  return `must be one of ${list}${guess ? `; did you mean "${guess}"?` : ''}`;
}

type RawIssue = z.core.$ZodRawIssue;

function bound(iss: RawIssue, big: boolean): string {
  const { origin } = iss as { origin?: string };
  const limit = Number(big ? (iss as { maximum?: unknown }).maximum : (iss as { minimum?: unknown }).minimum);
  const inclusive = (iss as { inclusive?: boolean }).inclusive !== false;
  if (origin === 'string')
    return big
      ? `must be at most ${limit} characters`
      : limit <= 1
        ? 'must not be empty'
        : `must be at least ${limit} characters`;
  if (origin === 'array' || origin === 'set')
    return big
      ? `must list at most ${limit} items`
      : limit <= 1
        ? 'must not be empty'
        : `must list at least ${limit} items`;
  if (big) return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
  return inclusive ? `must be at least ${limit}` : `must be more than ${limit}`;
}

/** The per-parse error map of `validatePlan`. `undefined` leaves zod's message. */
export function planErrorMap(iss: RawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type': {
      if (iss.input === undefined) return 'is required';
      const expected = EXPECTED[iss.expected] ?? iss.expected;
      if (iss.expected === 'number' && typeof iss.input === 'number')
        return `must be a finite number (got ${iss.input})`;
      if (iss.expected === 'int' && typeof iss.input === 'number')
        return `must be a whole number (got ${iss.input})`;
      return `must be ${expected} (got ${described(iss.input)})`;
    }
    case 'invalid_value':
      return oneOf(iss.values, iss.input);
    case 'invalid_union': {
      const u = iss as { discriminator?: string; options?: unknown[]; input?: unknown };
      if (u.discriminator && u.options) {
        const value = (u.input as Record<string, unknown> | undefined)?.[u.discriminator];
        if (value === undefined) return `is required (${oneOf(u.options, value).replace(/^must be /, '')})`;
        return oneOf(u.options, value);
      }
      return 'matches none of the allowed shapes';
    }
    case 'invalid_key':
      return `is not an allowed key: ${(iss.issues[0] as { message?: string } | undefined)?.message ?? 'wrong format'}`;
    case 'invalid_format':
      return iss.format === 'url'
        ? 'must be a URL like http://host:8000/path'
        : `has the wrong format (${iss.format})`;
    case 'too_small':
      return bound(iss, false);
    case 'too_big':
      return bound(iss, true);
    case 'unrecognized_keys':
      return `unknown key${iss.keys.length === 1 ? '' : 's'}: ${iss.keys.map((k) => shown(k)).join(', ')}`;
    default:
      return undefined;
  }
}
