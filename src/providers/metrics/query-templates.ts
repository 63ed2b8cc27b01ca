import type { Endpoint } from '../../plan/endpoints';
import { normalizeRoute } from '../../plan/endpoints';
import type { ImplMapping } from '../../plan/metrics-conventions';
import { routeSpellings, type Impl } from './series';

/**
 * A plan's own PromQL (`target.metrics.queries`, as Argo Rollouts' and Flagger's metric templates
 * do), filled in for one implementation of one group. The schema refuses unknown placeholders at
 * plan load (metrics-schema.ts). Values are written for where a template puts them: `{impl}`,
 * `{routes}`, `{methods}` and `{group}` inside a double-quoted PromQL string (escaped for it),
 * `{impl_selector}` as matchers inside a selector's braces, `{range}` inside `[...]`.
 */

export interface TemplateValues {
  impl: ImplMapping;
  /** The implementation this run is for. */
  which: Impl;
  /** The group's own label matchers (`target.metrics.groups.<group>.match`), added to `{impl_selector}`. */
  match: Record<string, string>;
  rangeSeconds: number;
  endpoints: Endpoint[];
  group: string;
}

/** The inside of a double-quoted PromQL string (Go escapes, as JSON writes them). */
const inString = (s: string) => JSON.stringify(s).slice(1, -1);

/** RE2 metacharacters escaped, for a `=~` matcher. */
const escapeRegex = (s: string) => s.replace(/[\\.^$|?*+()[\]{}]/g, '\\$&');

/** The values of each placeholder. */
export function placeholderValues(v: TemplateValues): Record<string, string> {
  const value = v.impl[v.which];
  const routes = [...new Set(v.endpoints.flatMap((e) => routeSpellings(normalizeRoute(e.route))))];
  const methods = [...new Set(v.endpoints.map((e) => e.method.toUpperCase()))].sort();
  return {
    impl: inString(value),
    impl_selector: [[v.impl.label, value], ...Object.entries(v.match)].map(([k, x]) => `${k}=${JSON.stringify(x)}`).join(','),
    range: `${v.rangeSeconds}s`,
    routes: inString(routes.map(escapeRegex).join('|')),
    methods: inString(methods.join('|')),
    group: inString(v.group),
  };
}

/** `template` with every `{name}` replaced; names it does not know stay (the schema refused them). */
export function fillQuery(template: string, v: TemplateValues): string {
  const values = placeholderValues(v);
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) =>
    Object.prototype.hasOwnProperty.call(values, name) ? values[name] : m,
  );
}
