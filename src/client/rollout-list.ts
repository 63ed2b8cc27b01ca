/**
 * The rollouts on a namespace as `list` and the rollout page show them: one row per rollout (the
 * latest run), from the search attributes the workflow keeps current.
 */
import type { Client } from '@temporalio/client';
import {
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
} from '../contracts/definitions';

/** What `list --state/--target/--running` narrow the rows to. */
export interface ListFilter {
  /** One of ROLLOUT_STATES (checked where it comes in). */
  state?: string;
  target?: string;
  running?: boolean;
}

/** One rollout as the visibility store knows it. */
export interface RolloutRow {
  id: string;
  state: string | null;
  phase: string | null;
  percent: number | null;
  target: string | null;
  workflowStatus: string;
  startedAt: string;
  closedAt: string | null;
  runId: string;
}

const quote = (v: string) => `'${v.replace(/'/g, "\\'")}'`;

/** The visibility query `list` runs; printed with `--json` and in docs for the stock CLI. */
export function listQuery(o: ListFilter): string {
  // One row per rollout: the runs a rollout closed by continuing as new are not rollouts.
  const parts = [`WorkflowType = 'rolloutWorkflow'`, `ExecutionStatus != 'ContinuedAsNew'`];
  if (o.state) parts.push(`RolloutState = ${quote(o.state)}`);
  if (o.target) parts.push(`RolloutTarget = ${quote(o.target)}`);
  if (o.running) parts.push(`ExecutionStatus = 'Running'`);
  return parts.join(' AND ');
}

/** At most `limit` rows, newest first. */
export async function listRollouts(client: Client, filter: ListFilter, limit: number): Promise<RolloutRow[]> {
  const rows: RolloutRow[] = [];
  for await (const wf of client.workflow.list({ query: listQuery(filter), pageSize: Math.min(limit, 100) })) {
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
  return rows;
}
