/**
 * Structural comparison of two JSON documents: same keys and the same JSON types, recursively.
 * Values may differ (uptime, timestamps, new rows): the functional check asks whether the domain
 * implementation answers in the legacy shape, not with the legacy bytes.
 */

export type JsonType = 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object';

export function jsonType(v: unknown): JsonType {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'boolean' || t === 'number' || t === 'string') return t;
  return 'object';
}

const keyPath = (path: string, key: string) =>
  /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;

function idOf(v: unknown): string | undefined {
  if (jsonType(v) !== 'object') return undefined;
  const id = (v as Record<string, unknown>).id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

/**
 * Differences like `$.items[id=cam-1].tags: legacy array, domain string` or `$.version: only in
 * legacy`. Array elements are paired by `id` when every element has one (the two sides may list
 * rows in another order), by position otherwise; extra elements are values, not structure.
 */
export function compareStructure(
  legacy: unknown,
  domain: unknown,
  path = '$',
  out: string[] = [],
  max = 20,
): string[] {
  if (out.length >= max) return out;
  const a = jsonType(legacy);
  const b = jsonType(domain);
  if (a !== b) {
    out.push(`${path}: legacy ${a}, domain ${b}`);
    return out;
  }
  if (a === 'object') {
    const l = legacy as Record<string, unknown>;
    const d = domain as Record<string, unknown>;
    for (const k of Object.keys(l)) if (!(k in d)) out.push(`${keyPath(path, k)}: only in legacy`);
    for (const k of Object.keys(d)) if (!(k in l)) out.push(`${keyPath(path, k)}: only in domain`);
    for (const k of Object.keys(l)) if (k in d) compareStructure(l[k], d[k], keyPath(path, k), out, max);
  } else if (a === 'array') {
    const l = legacy as unknown[];
    const d = domain as unknown[];
    const byId = l.length > 0 && d.length > 0 && [...l, ...d].every((x) => idOf(x) !== undefined);
    if (byId) {
      const dIndex = new Map(d.map((x) => [idOf(x)!, x]));
      let paired = 0;
      for (const x of l) {
        const y = dIndex.get(idOf(x)!);
        if (y === undefined) continue;
        paired++;
        compareStructure(x, y, `${path}[id=${idOf(x)}]`, out, max);
      }
      // No common id (different rows): still compare the shape of one row from each side.
      if (paired === 0) compareStructure(l[0], d[0], `${path}[0]`, out, max);
    } else {
      for (let i = 0; i < Math.min(l.length, d.length); i++)
        compareStructure(l[i], d[i], `${path}[${i}]`, out, max);
    }
  }
  return out.slice(0, max);
}
