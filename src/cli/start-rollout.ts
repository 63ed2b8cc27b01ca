import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { rolloutIdFor } from '../client/connection';
import { formatDuration, parseDuration, scaledMs } from '../plan/duration';
import type { Plan } from '../plan/schema';
import {
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
  statusQuery,
  type RolloutInput,
} from '../contracts/definitions';
import { type CurrentShares } from '../plan/rollout-input';
import { beyondLastStep } from '../plan/checks';
import { readShares } from '../providers/traffic';
import { policyFromEnv } from '../providers/policy';
import { out } from '../client/action';
import { hasWorker, withTemporal, type Temporal } from '../client/connect';
import { CliError, EXIT } from '../client/errors';
import type { VerbOptions } from '../client/options';
import { loadPlanForCli } from './plan-file';

function stepsLine(plan: Plan, timeScale: number): string[] {
  return plan.phases.map((p) => {
    const steps = p.steps
      .map((s) => {
        if (s.observe === 'continuous') return `${s.percent}% continuous`;
        const scaled =
          timeScale !== 1 ? ` (${formatDuration((parseDuration(s.observe) ?? 0) / timeScale)})` : '';
        return `${s.percent}% ${s.observe}${scaled}`;
      })
      .join(' → ');
    const approval = p.approval === 'before-start' ? ', approval before start' : '';
    return `  ${p.name} (group ${p.group}${approval}): ${steps}`;
  });
}

/** The running rollout that blocks a start, described in one line. */
async function describeRunning(t: Temporal, id: string): Promise<string> {
  try {
    const s = await t.timed(5000, () => t.client.workflow.getHandle(id).query(statusQuery));
    return `${id} (${s.state}${s.phase ? `, ${s.phase} at ${s.percent}%` : ''})`;
  } catch {
    return id;
  }
}

function refuseDuplicate(targetId: string, running: string, id: string): CliError {
  return new CliError(
    `a rollout of target ${targetId} is already running: ${running}. One rollout per target: ` +
      `watch it with \`npx rollout watch ${id}\`, or end it first (\`npx rollout rollback ${id} --by NAME\`).`,
    EXIT.refused,
  );
}

/**
 * What the target serves now. A group above 0% would be cut back to its first step by surprise:
 * refused unless `--resume-from-current` or `--from-zero` says what to do (then the workflow is
 * told the shares and records them). Shares that cannot be read are a warning, not a refusal.
 */
async function liveShares(plan: Plan, opts: VerbOptions<'start'>): Promise<CurrentShares | undefined> {
  const groups = plan.phases.map((p) => p.group);
  let shares: Record<string, number>;
  try {
    shares = await readShares(plan.target.traffic, process.env, groups);
  } catch (err) {
    out.error(
      `warning: cannot read the traffic switches of ${plan.target.id} (${(err as Error).message}): start could not check that no group is already above 0%`,
    );
    return undefined;
  }
  const live = groups.filter((g) => shares[g] > 0);
  if (live.length === 0) return undefined;
  const mode = opts.resumeFromCurrent ? 'resume-from-current' : opts.fromZero ? 'from-zero' : undefined;
  const named = groups.map((g) => `${g} ${shares[g]}%`).join(', ');
  if (!mode) {
    const firsts = plan.phases
      .filter((p) => shares[p.group] > 0)
      .map((p) => `${p.group} from ${shares[p.group]}% to ${p.steps[0].percent}%`);
    throw new CliError(
      `target ${plan.target.id} already serves domain traffic (${named}): starting would cut ${firsts.join(', ')}. Nothing was started. Say what to do: --resume-from-current (each phase starts at its first step at or above its share) or --from-zero (those groups go to 0% first, then the plan runs from its first steps).`,
      EXIT.refused,
    );
  }
  const beyond = mode === 'resume-from-current' ? beyondLastStep(plan.phases, shares) : [];
  if (beyond.length > 0)
    throw new CliError(
      `--resume-from-current: ${beyond.map((p) => `${p.group} is at ${shares[p.group]}%, above the last step of ${p.name} (${p.steps[p.steps.length - 1].percent}%)`).join('; ')}. Nothing was started.`,
      EXIT.refused,
    );
  out.line(
    `found ${named}: ${mode === 'resume-from-current' ? 'resuming each phase at its current share' : 'setting them to 0% first'} (--${mode})`,
  );
  return { mode, shares: Object.fromEntries(live.map((g) => [g, shares[g]])) };
}

/**
 * What the worker's policy would refuse, judged with this shell's ROLLOUT_ALLOW_* (the same as the
 * worker's when both run from one environment, as with `npm start`): warnings, since the worker
 * decides with its own environment (and then fails the rollout at once, before any traffic moves).
 */
function policyWarnings(plan: Plan): string[] {
  try {
    return policyFromEnv(process.env)
      .planProblems(plan)
      .map(
        (p) =>
          `warning: ${p.path}: ${p.message} (judged with this shell's environment; the worker decides with its own)`,
      );
  } catch (err) {
    return [`warning: cannot judge the plan against the worker's policy: ${(err as Error).message}`];
  }
}

/** The least a check should span for a `prometheus` source: two scrapes at a 5s interval. */
const PROMETHEUS_MIN_CHECK_MS = 10_000;

/**
 * A time scale divides `checkInterval` too; a `prometheus` source reads `increase()` over each
 * check, which sees nothing in less than two scrapes: every check would be a metrics-source error
 * and the rollout would hold before its first step. Said before starting (`verify` samples an
 * unscaled window and cannot see it).
 */
export function scaledCheckWarning(plan: Plan, timeScale: number): string | null {
  if (plan.target.metrics.type !== 'prometheus' || timeScale === 1) return null;
  const ms = scaledMs(plan.defaults.checkInterval, timeScale);
  if (ms >= PROMETHEUS_MIN_CHECK_MS) return null;
  return (
    `warning: defaults.checkInterval: at --time-scale ${timeScale} a check spans ${formatDuration(ms)}, and the prometheus ` +
    `source needs two scrapes in each (10s at a 5s scrape interval, 30s at 15s), else every check is a metrics-source ` +
    `error and the rollout holds: set checkInterval to two scrapes × ${timeScale} or more ` +
    `(${formatDuration(PROMETHEUS_MIN_CHECK_MS * timeScale)} for 5s scrapes, ${formatDuration(30_000 * timeScale)} for 15s), or use a smaller --time-scale`
  );
}

/**
 * `start`: loads and validates the plan, refuses a second rollout of the same target, starts the
 * workflow and says what to run next. The options were checked by the command (options.ts).
 */
export async function startRollout(file: string, opts: VerbOptions<'start'>): Promise<void> {
  const timeScale = opts.timeScale ?? 1;
  const { raw, plan, warnings } = await loadPlanForCli(file, { targetUrl: opts.targetUrl });
  for (const w of warnings) out.error(`warning: ${w.path}: ${w.message}`);
  for (const w of policyWarnings(plan)) out.error(w);
  const short = scaledCheckWarning(plan, timeScale);
  if (short) out.error(short);
  const id = opts.id ?? rolloutIdFor(plan.target.id);
  return withTemporal(async (t) => {
    // Another id for the same target (--id) is caught through the search attribute.
    try {
      const query = `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running' AND RolloutTarget = '${plan.target.id}'`;
      for await (const wf of t.client.workflow.list({ query })) {
        throw refuseDuplicate(plan.target.id, await describeRunning(t, wf.workflowId), wf.workflowId);
      }
    } catch (err) {
      if (err instanceof CliError) throw err;
      // Visibility unavailable or attributes not registered: the id conflict policy still guards.
    }
    const current = await liveShares(plan, opts);
    const input: RolloutInput = { plan: raw, timeScale, ...(current ? { current } : {}) };
    let runId: string;
    try {
      const handle = await t.timed(15_000, () =>
        t.client.workflow.start('rolloutWorkflow', {
          taskQueue: t.settings.taskQueue,
          workflowId: id,
          args: [input],
          workflowIdConflictPolicy: 'FAIL',
          // What Temporal's UI shows on the rollout's page, from its start.
          staticSummary: `${plan.name}: ${plan.target.id} — ${plan.phases.map((p) => `${p.group} ${p.steps.map((st) => st.percent).join('→')}%`).join(', ')}`,
          staticDetails: [
            `target ${plan.target.id} at ${plan.target.baseUrl}`,
            ...stepsLine(plan, timeScale).map((l) => `- ${l.trim()}`),
          ].join('\n'),
          typedSearchAttributes: [
            { key: rolloutStateKey, value: 'pending' },
            { key: rolloutPhaseKey, value: 'none' },
            { key: rolloutPercentKey, value: 0 },
            { key: rolloutTargetKey, value: plan.target.id },
          ],
        }),
      );
      runId = handle.firstExecutionRunId;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError)
        throw refuseDuplicate(plan.target.id, await describeRunning(t, id), id);
      throw err;
    }
    out.line(`started ${id} (run ${runId})`);
    out.line(
      `  plan ${plan.name}, target ${plan.target.id} at ${plan.target.baseUrl}${timeScale !== 1 ? `, time scale ×${timeScale}` : ''}`,
    );
    for (const l of stepsLine(plan, timeScale)) out.line(l);
    if ((await hasWorker(t)) === false)
      out.error(
        `warning: no worker is polling task queue ${t.settings.taskQueue} yet; the rollout waits until one does (\`npm start\` or \`npm run worker\`).`,
      );
    out.line(`next: npx rollout watch ${id}`);
  });
}
