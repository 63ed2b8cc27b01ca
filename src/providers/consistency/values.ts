import { isDeepStrictEqual } from 'node:util';

/**
 * Value comparison across stores that spell one value differently: SQLite has no booleans
 * (`enabled` is 0/1) and keeps lists as JSON text (`tags`), YAML has both natively.
 */

/** A database cell as the YAML side would hold it: JSON text of a list or object is parsed. */
export function normalizeCell(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return value;
}

/** A database row with every cell normalised. */
export function normalizeRow(row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, normalizeCell(v)]));
}

/** Equal as data: 0/1 equals false/true, JSON text equals the structure, null equals absent. */
export function sameValue(a: unknown, b: unknown): boolean {
  a = normalizeCell(a);
  b = normalizeCell(b);
  if (a === undefined || a === null) return b === undefined || b === null;
  if (typeof a === 'boolean' && typeof b === 'number') return (b === 0 || b === 1) && a === (b === 1);
  if (typeof b === 'boolean' && typeof a === 'number') return (a === 0 || a === 1) && b === (a === 1);
  return isDeepStrictEqual(a, b);
}

/** `"A"`, `["x","y"]`, `true`, `(absent)`: how a value reads in a difference. */
export function formatValue(v: unknown, max = 80): string {
  if (v === undefined) return '(absent)';
  const text = JSON.stringify(normalizeCell(v)) ?? String(v);
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
