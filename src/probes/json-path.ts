/**
 * The JSON paths a plan writes to pick values out of answers (`$.id`, `$.items[0].id`,
 * `$["order-id"]`): a small, strict subset of JSONPath. Filters and wildcards are left out on
 * purpose: a probe picks one value, and a path that could match several would make the probe
 * depend on an order nobody promised.
 */

export type PathSegment = string | number;

const NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/** The segments of `path`, or a message saying where it stops making sense. */
export function parseJsonPath(path: string): PathSegment[] | { error: string } {
  if (!path.startsWith('$')) return { error: 'must start with $ (like $.id or $.items[0].id)' };
  const out: PathSegment[] = [];
  let rest = path.slice(1);
  while (rest.length > 0) {
    if (rest.startsWith('.')) {
      const name = NAME.exec(rest.slice(1));
      if (!name) return { error: `expected a field name after "." at "${rest}"` };
      out.push(name[0]);
      rest = rest.slice(1 + name[0].length);
      continue;
    }
    const index = /^\[(\d{1,6})\]/.exec(rest);
    if (index) {
      out.push(Number(index[1]));
      rest = rest.slice(index[0].length);
      continue;
    }
    const quoted = /^\[(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\]/.exec(rest);
    if (quoted) {
      out.push((quoted[1] ?? quoted[2]).replace(/\\(.)/g, '$1'));
      rest = rest.slice(quoted[0].length);
      continue;
    }
    return { error: `unexpected "${rest}" (use .name, [0] or ["name"]; filters and * are not supported)` };
  }
  return out;
}

/** The value at `path` in `doc`, or `undefined` when any step is missing. */
export function pickPath(doc: unknown, path: PathSegment[]): unknown {
  let at: unknown = doc;
  for (const seg of path) {
    if (at === null || typeof at !== 'object') return undefined;
    if (typeof seg === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[seg];
    } else {
      if (Array.isArray(at) || !Object.prototype.hasOwnProperty.call(at, seg)) return undefined;
      at = (at as Record<string, unknown>)[seg];
    }
  }
  return at;
}

/** `pickPath` for a path already validated with the plan; throws on a malformed one (a bug). */
export function pick(doc: unknown, path: string): unknown {
  const parsed = parseJsonPath(path);
  if (!Array.isArray(parsed)) throw new Error(`JSON path ${path}: ${parsed.error}`);
  return pickPath(doc, parsed);
}
