import { z } from 'zod';
import { LIMITS } from './limits';

/** Field kinds the plan's schema and its probes' schema share. */

export function text(max: number) {
  return z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
}

/** A name a person reads and types (approvers sign signals with it): no blank or padded names. */
export const personName = text(LIMITS.nameLength).regex(
  /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u,
  'must not be blank, start or end with spaces, or hold control characters',
);

export const endpoint = text(LIMITS.stringLength).regex(
  /^(GET|POST|PUT|PATCH|DELETE) \/\S*$/,
  'must look like "GET /api/v1/path" (method, space, path)',
);
