import type { VerifyStageInput } from '../contracts/activities';
import type { CommandReport, FunctionalReport, StageReport } from '../judge/samples';
import { parseEndpoint } from '../plan/endpoints';
import { messageOf } from '../providers/errors';
import type { PolicyProblem } from '../providers/policy';
import { durationMs } from '../providers/settings';
import type { ResolvedDeps } from './deps';
import { cancellationSignal, heartbeat, keptAlive } from './context';
import { runConsistency } from './consistency';
import type { Probes, WriteLifecycle } from '../plan/probes-schema';
import { lifecycleEndpoints, probeKey } from '../plan/probe-rules';
import { probeSchemasFor, SchemaError, type ProbeSchemas } from '../probes/json-schemas';
import { checkRead, defaultReadProbe } from './read-probe';
import { TargetClient } from './target-client';
import { runFunctionalLifecycles, runWriteProbe } from './write-lifecycle';

const EMPTY_PROBES: Probes = { schemas: {}, reads: [], writes: [] };

/** The lifecycles that exercise any of `endpoints`. */
function lifecyclesFor(probes: Probes, endpoints: string[]): WriteLifecycle[] {
  const keys = new Set(endpoints.map(probeKey));
  return probes.writes.filter((w) => [...lifecycleEndpoints(w)].some((k) => keys.has(k)));
}

/**
 * The functional check: every GET endpoint of the phase through both implementations (its read
 * probe, or any 2xx), and the write endpoints through their lifecycles, once per implementation.
 */
export async function runFunctional(
  client: TargetClient,
  input: VerifyStageInput,
  probes: Probes,
  schemas: ProbeSchemas,
): Promise<FunctionalReport> {
  const report: FunctionalReport = { ok: true, checked: 0, failures: [], serverErrors: 0 };
  const reads = new Map(probes.reads.map((r) => [probeKey(r.request), r]));
  const covered = new Set(probes.writes.flatMap((w) => [...lifecycleEndpoints(w)]));
  const writes: string[] = [];
  for (const endpoint of input.phase.endpoints) {
    const { method } = parseEndpoint(endpoint);
    const key = probeKey(endpoint);
    if (method === 'GET') {
      heartbeat(`functional ${endpoint}`);
      await checkRead({ client, schemas }, endpoint, reads.get(key) ?? defaultReadProbe(endpoint), report);
      report.checked++;
    } else if (covered.has(key)) {
      writes.push(endpoint);
    } else {
      // Better a visible failure than a write endpoint nobody checked (plan validation refuses it too).
      report.failures.push(`${endpoint}: no write lifecycle in target.probes.writes exercises this endpoint`);
    }
  }
  if (writes.length) {
    const cycle = await runFunctionalLifecycles(
      { client, schemas, rolloutId: input.rolloutId },
      lifecyclesFor(probes, writes),
    );
    report.failures.push(...cycle.failures);
    report.serverErrors += cycle.serverErrors;
    report.checked += writes.length;
  }
  report.ok = report.failures.length === 0;
  return report;
}

/**
 * Runs the phase's command as the worker's policy runs commands (an allowed program, a minimal
 * environment, its output redacted): exit 0 passes. The rollout's context is in `ROLLOUT_*`.
 */
export async function runCommand(deps: ResolvedDeps, input: VerifyStageInput): Promise<CommandReport> {
  const command = input.phase.command;
  if (!command) return { ok: false, exitCode: null, timedOut: false, output: 'the phase has no command' };
  const res = await deps.policy.runCommand(command.run, `phase ${input.phase.name} command.run`, {
    timeoutMs: durationMs(command.timeout, `phase ${input.phase.name} command.timeout`, '2m'),
    extraEnv: {
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

/**
 * What the requested checks would reach, refused (non-retryable) unless the worker's policy allows
 * it: a refusal is about the plan, never a finding about the canary.
 */
function refuseByPolicy(deps: ResolvedDeps, input: VerifyStageInput, wants: Set<string>): void {
  const { policy } = deps;
  const problems: PolicyProblem[] = [];
  if (wants.has('functional') || wants.has('writeProbe')) {
    const problem = policy.hostProblem(input.target.baseUrl);
    if (problem) problems.push({ path: 'target.baseUrl', message: problem });
  }
  if (input.target.consistency && (wants.has('dataConsistency') || wants.has('writeProbe')))
    problems.push(...policy.consistencyProblems(input.target.consistency));
  if (wants.has('command') && input.phase.command) {
    const problem = policy.commandProblem(input.phase.command.run);
    if (problem) problems.push({ path: `phase ${input.phase.name} command.run`, message: problem });
  }
  policy.refuse(problems);
}

export function verificationActivities(deps: ResolvedDeps) {
  return keptAlive({
    /**
     * Runs the requested checks (functional, writeProbe, command, dataConsistency; metric checks
     * are not this activity's). Findings go into the report for the workflow to judge; only a
     * broken configuration throws.
     */
    async verifyStage(input: VerifyStageInput): Promise<StageReport> {
      const wants = new Set(input.checks);
      refuseByPolicy(deps, input, wants);
      const client = new TargetClient(deps.http, input.target.baseUrl);
      const report: StageReport = { at: new Date().toISOString() };
      const probes = input.target.probes ?? EMPTY_PROBES;
      let schemas: ProbeSchemas | undefined;
      let schemaError: string | undefined;
      try {
        schemas = probeSchemasFor(probes.schemas);
      } catch (err) {
        // Plan validation compiles them too; a plan that skipped it must still fail visibly.
        schemaError =
          err instanceof SchemaError ? `target.probes.schemas.${err.schema}: ${err.message}` : messageOf(err);
      }
      if (wants.has('functional'))
        report.functional = schemas
          ? await runFunctional(client, input, probes, schemas)
          : { ok: false, checked: 0, failures: [schemaError!], serverErrors: 0 };
      if (wants.has('writeProbe')) {
        heartbeat('write probe');
        let consistency;
        try {
          consistency = input.target.consistency ? deps.consistencyFor(input.target.consistency) : undefined;
        } catch (err) {
          report.writeProbe = { ok: false, steps: [], failure: `consistency provider: ${messageOf(err)}` };
        }
        if (!schemas) report.writeProbe ??= { ok: false, steps: [], failure: schemaError };
        report.writeProbe ??= await runWriteProbe(
          { client, schemas: schemas!, rolloutId: input.rolloutId, consistency },
          lifecyclesFor(
            probes,
            input.phase.endpoints.filter((e) => !e.startsWith('GET ')),
          ),
        );
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
      // Answers, bodies and outputs go into status and history: nothing that looks like a secret.
      return deps.policy.redactDeep(report);
    },
  });
}
