/**
 * Values a probe fills in at run time. Path parameters are `{name}` (as routes are spelled in a
 * plan), values in bodies, headers and record ids are `${name}`. Names are a capture of an earlier
 * step or one of the built-ins below.
 */

/** Built-in values: the rollout's id and a token fresh for each run of a lifecycle. */
export const BUILTIN_VARIABLES = ['rollout', 'token'] as const;

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const WHOLE_VARIABLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const PATH_PARAM = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The `{name}` parameters of a route, in order. */
export function pathParams(route: string): string[] {
  return [...route.matchAll(PATH_PARAM)].map((m) => m[1]);
}

/** Every `${name}` in a JSON value's strings (keys included), in order of appearance. */
export function variablesIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') for (const m of value.matchAll(VARIABLE)) out.push(m[1]);
  else if (Array.isArray(value)) for (const v of value) variablesIn(v, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) {
      variablesIn(k, out);
      variablesIn(v, out);
    }
  return out;
}

export type Variables = Readonly<Record<string, unknown>>;

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * A JSON value with every `${name}` replaced. A string that is exactly one `${name}` takes the
 * value itself, so an integer id stays an integer in a body.
 */
export function fillValue(value: unknown, vars: Variables): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_VARIABLE.exec(value);
    if (whole && whole[1] in vars) return vars[whole[1]];
    return value.replace(VARIABLE, (m, name: string) => (name in vars ? text(vars[name]) : m));
  }
  if (Array.isArray(value)) return value.map((v) => fillValue(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [fillValue(k, vars) as string, fillValue(v, vars)]),
    );
  return value;
}

/** A route with each `{name}` replaced by its value, URL-encoded. */
export function fillPath(route: string, vars: Variables): string {
  return route.replace(PATH_PARAM, (m, name: string) =>
    name in vars ? encodeURIComponent(text(vars[name])) : m,
  );
}

/**
 * How `${token}` is spelled in a probe record: 5 random bytes in hex, fresh for each run of a
 * lifecycle (write-lifecycle.ts makes it). Cleanup recognises leftovers of any run by it.
 */
export const TOKEN_PATTERN = '[0-9a-f]{10}';

/** The fixed text of a template: what is left with every `${name}` taken out. */
export function fixedText(template: string): string {
  return template.replace(VARIABLE, '');
}

/**
 * The test that a value is a probe record's marker: the marker template with `${rollout}` the
 * rollout's id and `${token}` any run's token, the whole value (or one item of a list). A fixed
 * marker would let cleanup delete real records that happen to hold it; a per-run token cannot be.
 */
export function markerMatcher(template: string, rolloutId: string): (value: unknown) => boolean {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let source = '';
  let last = 0;
  for (const m of template.matchAll(VARIABLE)) {
    source += escape(template.slice(last, m.index));
    source += m[1] === 'token' ? TOKEN_PATTERN : m[1] === 'rollout' ? escape(rolloutId) : escape(m[0]);
    last = m.index! + m[0].length;
  }
  source += escape(template.slice(last));
  const re = new RegExp(`^${source}$`);
  const one = (v: unknown) => typeof v === 'string' && re.test(v);
  return (value) => (Array.isArray(value) ? value.some(one) : one(value));
}
