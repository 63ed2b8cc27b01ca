import type { VerifyStageInput } from '../contracts/activities';
import type { CommandReport, FunctionalReport, StageReport } from '../contracts/samples';
import { parseEndpoint } from '../contracts/samples';
import { messageOf } from '../providers/errors';
import { durationMs } from '../providers/settings';
import { runShell } from '../providers/shell';
import type { ResolvedDeps } from './deps';
import { cancellationSignal, heartbeat, keptAlive } from './context';
import { runConsistency } from './consistency';
import { responseSchemaFor } from './response-schemas';
import { compareStructure } from './structure';
import { TargetClient, describeCall, isServerError, type CallResult } from './target-client';
import { runWriteLifecycles, runWriteProbe } from './write-probe';

/** Write endpoints the camera probe knows how to exercise. */
const PROBED_WRITES = new Set([
  'POST /api/v1/cameras',
  'PUT /api/v1/cameras/{camera_id}',
  'DELETE /api/v1/cameras/{camera_id}',
]);

/**
 * Fills `{camera_id}` with a real camera so a templated GET can be called; other parameters
 * cannot be guessed.
 */
async function resolvePath(client: TargetClient, route: string): Promise<string | { error: string }> {
  const params = [...route.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
  if (params.length === 0) return route;
  if (params.some((p) => p !== 'camera_id'))
    return { error: `cannot fill ${params.map((p) => `{${p}}`).join(', ')} with a real value` };
  const list = await client.call('GET', '/api/v1/cameras', { impl: 'legacy' });
  const items = (list.body as { items?: Array<{ id?: unknown }> } | undefined)?.items;
  const id = Array.isArray(items) ? items.find((c) => typeof c.id === 'string')?.id : undefined;
  if (typeof id !== 'string')
    return { error: `no camera to fill {camera_id} with (GET /api/v1/cameras: ${describeCall(list)})` };
  return route.replace('{camera_id}', encodeURIComponent(id));
}

/** One GET endpoint through both implementations: 2xx, the known schema, the same structure. */
async function checkRead(client: TargetClient, endpoint: string, report: FunctionalReport): Promise<void> {
  const { method, route } = parseEndpoint(endpoint);
  const path = await resolvePath(client, route);
  if (typeof path !== 'string') {
    report.failures.push(`${endpoint}: ${path.error}`);
    return;
  }
  const schema = responseSchemaFor(method, route);
  const bodies: Partial<Record<'legacy' | 'domain', unknown>> = {};
  for (const impl of ['legacy', 'domain'] as const) {
    const r: CallResult = await client.call(method, path, { impl });
    const via = `${endpoint} via ${impl}`;
    if (r.status < 200 || r.status >= 300) {
      report.failures.push(`${via}: ${describeCall(r)}`);
      if (isServerError(r)) report.serverErrors++;
      continue;
    }
    if (r.servedBy && r.servedBy !== impl) {
      report.failures.push(
        `${via}: answered by ${r.servedBy} (X-Served-By); X-Rollout-Force is not honoured`,
      );
      continue;
    }
    if (schema) {
      const parsed = schema.safeParse(r.body);
      if (!parsed.success) {
        const issues = parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        report.failures.push(`${via}: response does not match the ${method} ${route} schema: ${issues}`);
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

/**
 * The functional check: every GET endpoint of the phase through both implementations, and the
 * write endpoints through one create → update → delete cycle per implementation.
 */
export async function runFunctional(
  client: TargetClient,
  input: VerifyStageInput,
): Promise<FunctionalReport> {
  const report: FunctionalReport = { ok: true, checked: 0, failures: [], serverErrors: 0 };
  const writes: string[] = [];
  for (const endpoint of input.phase.endpoints) {
    const { method, route } = parseEndpoint(endpoint);
    if (method === 'GET') {
      heartbeat(`functional ${endpoint}`);
      await checkRead(client, endpoint, report);
      report.checked++;
    } else if (PROBED_WRITES.has(`${method} ${route}`)) {
      writes.push(endpoint);
    } else {
      // Better a visible failure than a write endpoint nobody checked; the command check covers others.
      report.failures.push(
        `${endpoint}: no functional probe for this write endpoint (use the command check)`,
      );
    }
  }
  if (writes.length) {
    heartbeat('functional write cycle');
    const cycle = await runWriteLifecycles(client, input.rolloutId);
    report.failures.push(...cycle.failures);
    report.serverErrors += cycle.serverErrors;
    report.checked += writes.length;
  }
  report.ok = report.failures.length === 0;
  return report;
}

/** Runs the phase's command with a shell: exit 0 passes. The rollout's context is in `ROLLOUT_*`. */
export async function runCommand(deps: ResolvedDeps, input: VerifyStageInput): Promise<CommandReport> {
  const command = input.phase.command;
  if (!command) return { ok: false, exitCode: null, timedOut: false, output: 'the phase has no command' };
  const res = await runShell(command.run, {
    timeoutMs: durationMs(command.timeout, `phase ${input.phase.name} command.timeout`, '2m'),
    env: {
      ...deps.env,
      ROLLOUT_ID: input.rolloutId,
      ROLLOUT_PHASE: input.phase.name,
      ROLLOUT_GROUP: input.phase.group,
      ROLLOUT_PERCENT: String(input.percent),
      ROLLOUT_BASE_URL: input.target.baseUrl,
    },
    signal: cancellationSignal(),
  });
  return {
    ok: res.exitCode === 0 && !res.timedOut,
    exitCode: res.exitCode,
    timedOut: res.timedOut,
    output: res.output,
  };
}

export function verificationActivities(deps: ResolvedDeps) {
  return keptAlive({
    /**
     * Runs the requested checks (functional, writeProbe, command, dataConsistency; metric checks
     * are not this activity's). Findings go into the report for the workflow to judge; only a
     * broken configuration throws.
     */
    async verifyStage(input: VerifyStageInput): Promise<StageReport> {
      const client = new TargetClient(deps.http, input.target.baseUrl);
      const report: StageReport = { at: new Date().toISOString() };
      const wants = new Set(input.checks);
      if (wants.has('functional')) report.functional = await runFunctional(client, input);
      if (wants.has('writeProbe')) {
        heartbeat('write probe');
        let consistency;
        try {
          consistency = input.target.consistency ? deps.consistencyFor(input.target.consistency) : undefined;
        } catch (err) {
          report.writeProbe = { ok: false, steps: [], failure: `consistency provider: ${messageOf(err)}` };
        }
        report.writeProbe ??= await runWriteProbe(client, input.rolloutId, consistency);
      }
      if (wants.has('command')) {
        heartbeat('command');
        report.command = await runCommand(deps, input);
      }
      if (wants.has('dataConsistency')) {
        heartbeat('data consistency');
        report.consistency = input.target.consistency
          ? await runConsistency(deps, input.target.consistency)
          : { ok: false, checked: 0, differences: [], error: 'dataConsistency needs target.consistency' };
      }
      return report;
    },
  });
}
