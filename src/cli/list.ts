import type { Command } from 'commander';
import {
  ROLLOUT_STATES,
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
} from '../workflows/definitions';
import { action, out } from './action';
import { fmtDateTime, table } from './format';
import { parseOptions, type VerbOptions } from './options';

type ListOptions = VerbOptions<'list'>;

const quote = (v: string) => `'${v.replace(/'/g, "\\'")}'`;

/** The visibility query `list` runs; printed with `--json` and in docs for the stock CLI. */
export function listQuery(o: Pick<ListOptions, 'state' | 'target' | 'running'>): string {
  // One row per rollout: the runs a rollout closed by continuing as new are not rollouts.
  const parts = [`WorkflowType = 'rolloutWorkflow'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (o.state) parts.push(`RolloutState = ${quote(o.state)}`);
  if (o.target) parts.push(`RolloutTarget = ${quote(o.target)}`);
  if (o.running) parts.push(`ExecutionStatus = 'Running'`);
  return parts.join(' AND ');
}

export function register(program: Command): void {
  program
    .command('list')
    .description(
      'rollouts on the namespace, newest first, from the RolloutState/RolloutPhase/RolloutPercent/RolloutTarget search attributes',
    )
    .option('--state <state>', `only rollouts in this state (${ROLLOUT_STATES.join(', ')})`)
    .option('--target <id>', 'only rollouts of this target')
    .option('--running', 'only running rollouts')
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'one JSON array')
    .action(
      action(async (raw: unknown) => {
        const o = parseOptions('list', raw);
        const limit = o.limit;
        const { withTemporal } = await import('./connect');
        return withTemporal(async (t) => {
          const query = listQuery(o);
          const rows: Array<Record<string, string | number | null>> = [];
          await t.timed(20_000, async () => {
            for await (const wf of t.client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
              const sa = wf.typedSearchAttributes;
              rows.push({
                id: wf.workflowId,
                state: sa.get(rolloutStateKey) ?? null,
                phase: sa.get(rolloutPhaseKey) ?? null,
                percent: sa.get(rolloutPercentKey) ?? null,
                target: sa.get(rolloutTargetKey) ?? null,
                workflowStatus: wf.status.name,
                startedAt: wf.startTime.toISOString(),
                closedAt: wf.closeTime?.toISOString() ?? null,
                runId: wf.runId,
              });
              if (rows.length >= limit) break;
            }
          });
          if (o.json) {
            out.line(JSON.stringify(rows, null, 2));
            return;
          }
          if (rows.length === 0) {
            out.line(`no rollouts match (${query})`);
            return;
          }
          out.line(
            table(
              ['ROLLOUT', 'STATE', 'PHASE', 'PERCENT', 'TARGET', 'WORKFLOW', 'STARTED'],
              rows.map((r) => [
                String(r.id),
                String(r.state ?? '—'),
                String(r.phase ?? '—'),
                r.percent === null ? '—' : `${r.percent}%`,
                String(r.target ?? '—'),
                String(r.workflowStatus).toLowerCase(),
                fmtDateTime(r.startedAt as string),
              ]),
            ),
          );
        });
      }),
    );
}
