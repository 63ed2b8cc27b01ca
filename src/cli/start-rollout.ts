import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { rolloutIdFor } from '../client';
import { formatDuration, parseDuration } from '../plan/duration';
import type { Plan } from '../plan/schema';
import {
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
  statusQuery,
  type RolloutInput,
} from '../workflows/definitions';
import { out } from './action';
import { hasWorker, withTemporal, type Temporal } from './connect';
import { CliError, EXIT } from './errors';
import type { VerbOptions } from './options';
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
 * `start`: loads and validates the plan, refuses a second rollout of the same target, starts the
 * workflow and says what to run next. The options were checked by the command (options.ts).
 */
export async function startRollout(file: string, opts: VerbOptions<'start'>): Promise<void> {
  const timeScale = opts.timeScale ?? 1;
  const { raw, plan, warnings } = await loadPlanForCli(file, { targetUrl: opts.targetUrl });
  for (const w of warnings) out.error(`warning: ${w.path}: ${w.message}`);
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
    const input: RolloutInput = { plan: raw, timeScale };
    let runId: string;
    try {
      const handle = await t.timed(15_000, () =>
        t.client.workflow.start('rolloutWorkflow', {
          taskQueue: t.settings.taskQueue,
          workflowId: id,
          args: [input],
          workflowIdConflictPolicy: 'FAIL',
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
