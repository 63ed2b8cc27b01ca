import type { FunctionalReport } from '../judge/samples';
import { parseEndpoint } from '../plan/endpoints';
import type { ReadProbe } from '../plan/probes-schema';
import { pick } from '../probes/json-path';
import { schemaLabel, type ProbeSchemas } from '../probes/json-schemas';
import { fillPath, pathParams } from '../probes/templates';
import { compareStructure } from './structure';
import {
  answeredElsewhere,
  describeCall,
  isServerError,
  statusMatches,
  type CallResult,
  type TargetClient,
} from './target-client';

/** What a read probe needs besides its declaration. */
export interface ReadContext {
  client: TargetClient;
  schemas: ProbeSchemas;
}

/** A GET endpoint the plan declared no probe for: any 2xx, no schema, the structures compared. */
export function defaultReadProbe(endpoint: string): ReadProbe {
  return { request: endpoint, params: {}, status: '2xx' };
}

/** Fills the route's parameters: fixed values, or picked from another GET's answer through legacy. */
async function resolvePath(ctx: ReadContext, probe: ReadProbe): Promise<string | { error: string }> {
  const { route } = parseEndpoint(probe.request);
  const vars: Record<string, unknown> = {};
  for (const name of pathParams(route)) {
    const source = probe.params[name];
    if (source === undefined)
      return { error: `cannot fill {${name}}: declare a read probe with params in target.probes.reads` };
    if (typeof source !== 'object') {
      vars[name] = source;
      continue;
    }
    const from = parseEndpoint(source.from);
    const r = await ctx.client.call(from.method, from.route, { impl: 'legacy' });
    if (!statusMatches(r.status, '2xx'))
      return { error: `cannot fill {${name}}: ${source.from} via legacy: ${describeCall(r)}` };
    const value = pick(r.body, source.pick);
    if (typeof value !== 'string' && typeof value !== 'number')
      return {
        error: `cannot fill {${name}}: ${source.pick} is ${value === undefined ? 'missing' : 'not a string or number'} in the answer of ${source.from} (${describeCall(r)})`,
      };
    vars[name] = value;
  }
  return fillPath(route, vars);
}

/** One GET endpoint through both implementations: the status, the schema, the same structure. */
export async function checkRead(
  ctx: ReadContext,
  endpoint: string,
  probe: ReadProbe,
  report: FunctionalReport,
): Promise<void> {
  const { method } = parseEndpoint(endpoint);
  const path = await resolvePath(ctx, probe);
  if (typeof path !== 'string') {
    report.failures.push(`${endpoint}: ${path.error}`);
    return;
  }
  const bodies: Partial<Record<'legacy' | 'domain', unknown>> = {};
  for (const impl of ['legacy', 'domain'] as const) {
    const r: CallResult = await ctx.client.call(method, path, { impl, headers: probe.headers });
    const via = `${endpoint} via ${impl}`;
    if (!statusMatches(r.status, probe.status)) {
      const expected = probe.status === '2xx' ? '' : ` (expected ${probe.status})`;
      report.failures.push(`${via}: ${describeCall(r)}${expected}`);
      if (isServerError(r)) report.serverErrors++;
      continue;
    }
    const elsewhere = answeredElsewhere(r, impl, via);
    if (elsewhere) {
      report.failures.push(elsewhere);
      continue;
    }
    if (probe.schema !== undefined) {
      const issues = ctx.schemas.mismatches(probe.schema, r.body);
      if (issues.length) {
        report.failures.push(
          `${via}: response does not match ${schemaLabel(probe.schema, endpoint)}: ${issues.join('; ')}`,
        );
        continue;
      }
    }
    bodies[impl] = r.body;
  }
  if (bodies.legacy !== undefined && bodies.domain !== undefined) {
    const diff = compareStructure(bodies.legacy, bodies.domain);
    if (diff.length)
      report.failures.push(`${endpoint}: legacy and domain answers differ in structure: ${diff.join('; ')}`);
  }
}
