import type { Command } from 'commander';
import { action } from '../client/action';
import { parseOptions } from '../client/options';

export function register(program: Command): void {
  program
    .command('start')
    .description('validate a plan and start its rollout (one running rollout per target)')
    .argument('<plan>', 'plan file, YAML or JSON (a bare plan or a {"plan": ...} workflow input)')
    .option(
      '--target-url <url>',
      "run against this base URL instead of the plan's (moves the traffic and metrics URLs on that host too)",
    )
    .option('--time-scale <n>', 'divide every duration by n (demos, staging); default 1')
    .option('--id <id>', 'workflow id (default rollout-<target.id>)')
    .option(
      '--resume-from-current',
      'a group already above 0%: start its phase at the first step at or above its share',
    )
    .option(
      '--from-zero',
      'a group already above 0%: set it to 0% first, then run the plan from its first steps',
    )
    .action(
      action(async (file: string, given: unknown) => {
        const opts = parseOptions('start', given);
        const { startRollout } = await import('./start-rollout');
        return startRollout(file, opts);
      }),
    );
}
