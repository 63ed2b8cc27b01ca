import type { Command } from 'commander';
import { listQuery, listRollouts } from '../client/rollout-list';
import { ROLLOUT_STATES } from '../contracts/definitions';
import { action, out } from '../client/action';
import { fmtDateTime, table } from './format';
import { parseOptions } from '../client/options';

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
        const { withTemporal } = await import('../client/connect');
        return withTemporal(async (t) => {
          const query = listQuery(o);
          const rows = await t.timed(20_000, () => listRollouts(t.client, o, limit));
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
                fmtDateTime(r.startedAt),
              ]),
            ),
          );
        });
      }),
    );
}
