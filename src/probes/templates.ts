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
