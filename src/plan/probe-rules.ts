import { parseEndpoint } from './endpoints';
import { endpointKey } from './endpoints';
import { pick } from '../probes/json-path';
import { probeSchemasFor, SchemaError, type ProbeSchemas, type SchemaRef } from '../probes/json-schemas';
import { BUILTIN_VARIABLES, fixedText, pathParams, variablesIn } from '../probes/templates';
import { checksOf, type CheckSwitches } from './checks';
import { probesSchema, type Probes, type WriteLifecycle, type WriteStep } from './probes-schema';
import type { PlanProblem } from './strict-keys';

/**
 * What the probes' schema cannot see field by field: a value used before any step captured it, a
 * JSON Schema that does not compile, a lifecycle whose records could not be found again, and a
 * phase endpoint no probe exercises (the functional check would fail at every stage).
 */

const at = (i: number) => `target.probes.writes[${i}]`;

/**
 * An endpoint as probes match it: method and route, parameter names aside (a lifecycle may
 * call the phase's `{order_id}` its `{id}`).
 */
export function probeKey(request: string): string {
  const { method, route } = parseEndpoint(request);
  return endpointKey(method, route).replace(/\{[^}]*\}/g, '{}');
}

function split(request: string): { method: string; route: string; key: string } {
  return { ...parseEndpoint(request), key: probeKey(request) };
}

function schemaProblems(
  schemas: ProbeSchemas | undefined,
  ref: SchemaRef | undefined,
  path: string,
): PlanProblem[] {
  if (ref === undefined || !schemas) return [];
  try {
    schemas.compile(ref);
    return [];
  } catch (err) {
    return [{ path, message: err instanceof Error ? err.message : String(err) }];
  }
}

/** The id a step's `stored` is about when the plan does not say: its one path parameter or its one capture. */
export function defaultRecord(step: Pick<WriteStep, 'request' | 'capture'>): string | undefined {
  const params = pathParams(split(step.request).route);
  if (params.length === 1) return `\${${params[0]}}`;
  const captures = Object.keys(step.capture ?? {});
  return params.length === 0 && captures.length === 1 ? `\${${captures[0]}}` : undefined;
}

/** True when `value` (a body's field) carries the marker: equal to it, or a list holding it. */
export function carriesMarker(value: unknown, marker: unknown): boolean {
  return Array.isArray(value) ? value.includes(marker) : value === marker;
}

function stepProblems(
  life: WriteLifecycle,
  step: WriteStep,
  path: string,
  known: Set<string>,
  schemas: ProbeSchemas | undefined,
): PlanProblem[] {
  const out: PlanProblem[] = [];
  const { method, route } = split(step.request);
  const listKnown = () => `known here: ${[...known].join(', ')}`;
  for (const p of pathParams(route))
    if (!known.has(p))
      out.push({
        path: `${path}.request`,
        message: `{${p}} is not captured by an earlier step (${listKnown()})`,
      });
  for (const [field, value] of [
    ['body', step.body],
    ['headers', step.headers],
    ['record', step.record],
  ] as const)
    for (const v of new Set(variablesIn(value)))
      if (!known.has(v))
        out.push({
          path: `${path}.${field}`,
          message: `\${${v}} is not captured by an earlier step (${listKnown()})`,
        });
  out.push(...schemaProblems(schemas, step.schema, `${path}.schema`));
  for (const name of Object.keys(step.capture ?? {})) {
    if ((BUILTIN_VARIABLES as readonly string[]).includes(name))
      out.push({
        path: `${path}.capture.${name}`,
        message: `"${name}" is built in; capture it under another name`,
      });
  }
  if (step.echo && (typeof step.body !== 'object' || step.body === null || Array.isArray(step.body)))
    out.push({
      path: `${path}.echo`,
      message: 'needs a body that is a mapping (the fields the answer must carry)',
    });
  if (step.stored !== undefined && step.record === undefined && defaultRecord(step) === undefined)
    out.push({
      path: `${path}.record`,
      message:
        'stored needs to know which record: name it, e.g. record: "${id}" or { field: reference, equals: "${token}" }',
    });
  if (step.stored !== undefined && step.checks && !step.checks.includes('writeProbe'))
    out.push({
      path: `${path}.stored`,
      message: "is checked by the write probe only; add writeProbe to the step's checks",
    });
  // A record created without the marker could never be found again after a crash.
  if (method === 'POST' && step.body && typeof step.body === 'object' && !Array.isArray(step.body)) {
    const value = pick(step.body, life.marker.field);
    if (!carriesMarker(value, life.marker.value))
      out.push({
        path: `${path}.body`,
        message: `must carry the marker (${life.marker.field.replace(/^\$\.?/, '') || '$'} holds ${JSON.stringify(life.marker.value)}), so a leftover can be found and removed`,
      });
  }
  return out;
}

/** Fixed text a marker needs besides its variables (unless it names the rollout). */
const MARKER_FIXED_TEXT = 4;

/**
 * Cleanup deletes every listed record whose marker field matches, so the marker must be something
 * only a probe writes: a per-run `${token}` (any run's token matches, so a crashed run's leftovers
 * are found) with fixed text around it. `{field: currency, value: EUR}` would delete real orders.
 */
function markerProblems(life: WriteLifecycle, i: number): PlanProblem[] {
  const path = `${at(i)}.marker.value`;
  const value = life.marker.value;
  const field = life.marker.field.replace(/^\$\.?/, '') || '$';
  const vars = typeof value === 'string' ? variablesIn(value) : [];
  if (!vars.includes('token'))
    return [
      {
        path,
        message: `must contain \${token} (fresh for each probe run), like "rollout-probe-\${token}": cleanup deletes every listed record whose ${field} matches the marker, and a fixed ${JSON.stringify(value)} could match real records`,
      },
    ];
  const out: PlanProblem[] = [];
  const others = vars.filter((v) => v !== 'token' && v !== 'rollout');
  if (others.length)
    out.push({
      path,
      message: `may use only \${token} and \${rollout} (not \${${others[0]}}): cleanup must recognise a leftover of any run`,
    });
  if (!vars.includes('rollout') && fixedText(value as string).length < MARKER_FIXED_TEXT)
    out.push({
      path,
      message: `needs fixed text around \${token} (at least ${MARKER_FIXED_TEXT} characters, like "rollout-probe-\${token}"), so only probe records can match it`,
    });
  return out;
}

function lifecycleProblems(
  life: WriteLifecycle,
  i: number,
  schemas: ProbeSchemas | undefined,
  hasConsistency: boolean,
): PlanProblem[] {
  const out: PlanProblem[] = [];
  const list = split(life.list.request);
  if (list.method !== 'GET' || pathParams(list.route).length)
    out.push({
      path: `${at(i)}.list.request`,
      message: 'must be a GET without {parameters} (it lists every record)',
    });
  const cleanup = split(life.cleanup);
  if (pathParams(cleanup.route).length !== 1)
    out.push({
      path: `${at(i)}.cleanup`,
      message:
        'must have exactly one {parameter}, the id of the record to remove (like DELETE /orders/{order_id})',
    });
  if (life.lookup === 'consistency' && !hasConsistency)
    out.push({ path: `${at(i)}.lookup`, message: 'lookup: consistency needs target.consistency' });
  out.push(...markerProblems(life, i));
  const known = new Set<string>(BUILTIN_VARIABLES);
  life.steps.forEach((step, j) => {
    const path = `${at(i)}.steps[${j}]`;
    out.push(...stepProblems(life, step, path, known, schemas));
    for (const name of Object.keys(step.capture ?? {})) known.add(name);
  });
  return out;
}

/** The endpoint keys a lifecycle exercises: its steps' requests and its cleanup. */
export function lifecycleEndpoints(life: Pick<WriteLifecycle, 'steps' | 'cleanup'>): Set<string> {
  return new Set([...life.steps.map((s) => split(s.request).key), split(life.cleanup).key]);
}

interface LoosePhase {
  endpoints?: unknown;
  checks?: unknown;
}

function coverageProblems(probes: Probes, phases: unknown[]): PlanProblem[] {
  const out: PlanProblem[] = [];
  const reads = new Set(probes.reads.map((r) => split(r.request).key));
  const writes = new Set(probes.writes.flatMap((w) => [...lifecycleEndpoints(w)]));
  phases.forEach((raw, i) => {
    const phase: LoosePhase = raw && typeof raw === 'object' ? raw : {};
    const switches = phase.checks && typeof phase.checks === 'object' ? (phase.checks as CheckSwitches) : undefined;
    const checks = checksOf({ checks: switches });
    const probed = checks.includes('functional') || checks.includes('writeProbe');
    if (!probed || !Array.isArray(phase.endpoints)) return;
    phase.endpoints.forEach((e, j) => {
      if (typeof e !== 'string' || !/^[A-Z]+ \//.test(e)) return;
      const { method, route, key } = split(e);
      const path = `phases[${i}].endpoints[${j}]`;
      if (method === 'GET') {
        const params = pathParams(route);
        if (params.length && !reads.has(key))
          out.push({
            path,
            message: `${e}: add a read probe to target.probes.reads with params for ${params.map((p) => `{${p}}`).join(', ')} (the functional check cannot guess them)`,
          });
      } else if (!writes.has(key))
        out.push({
          path,
          message: `${e}: no write lifecycle in target.probes.writes exercises it (the ${checks.includes('writeProbe') ? 'write probe and the ' : ''}functional check need one, or it goes unchecked)`,
        });
    });
  });
  return out;
}

/** Problems of `target.probes` and of the phases' coverage, on the plan as written (keys checked). */
export function probeProblems(plan: unknown): PlanProblem[] {
  const p = (plan ?? {}) as { target?: { probes?: unknown; consistency?: unknown }; phases?: unknown };
  const parsed = probesSchema.safeParse(p.target?.probes ?? {});
  // Shape problems are the plan schema's to report; the rules below need a well-formed section.
  if (!parsed.success) return [];
  const probes = parsed.data;
  const out: PlanProblem[] = [];
  let schemas: ProbeSchemas | undefined;
  try {
    schemas = probeSchemasFor(probes.schemas);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    out.push({ path: `target.probes.schemas.${err.schema}`, message: err.message });
  }
  const hasConsistency = p.target?.consistency !== undefined;
  probes.reads.forEach((read, i) => {
    const path = `target.probes.reads[${i}]`;
    const { method, route } = split(read.request);
    if (method !== 'GET')
      out.push({
        path: `${path}.request`,
        message: 'must be a GET (writes are exercised by target.probes.writes)',
      });
    const params = pathParams(route);
    for (const name of params)
      if (!(name in read.params))
        out.push({ path: `${path}.params`, message: `must give a value for {${name}}` });
    for (const [name, source] of Object.entries(read.params)) {
      if (!params.includes(name))
        out.push({ path: `${path}.params.${name}`, message: `${read.request} has no {${name}}` });
      if (typeof source === 'object') {
        const from = split(source.from);
        if (from.method !== 'GET' || pathParams(from.route).length)
          out.push({ path: `${path}.params.${name}.from`, message: 'must be a GET without {parameters}' });
      }
    }
    out.push(...schemaProblems(schemas, read.schema, `${path}.schema`));
  });
  probes.writes.forEach((life, i) => out.push(...lifecycleProblems(life, i, schemas, hasConsistency)));
  out.push(...coverageProblems(probes, Array.isArray(p.phases) ? (p.phases as unknown[]) : []));
  return out;
}
