import type { Command } from 'commander';
import { action } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';

export function register(program: Command): void {
  program
    .command('approve')
    .description('approve what the rollout waits for: the start of a phase, or going on after a hold')
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', "who approves (must be one of the plan's approvers, if it lists any)")
    .option('--comment <text>', 'why, for the record')
    .action(
      action(async (id: string, raw: unknown) => {
        const o = parseOptions('approve', raw);
        const { sendSignal } = await import('./signal');
        return sendSignal(parseArgument('<id>', workflowIdOption, id), 'approve', {
          by: o.by,
          comment: o.comment,
        });
      }),
    );
}
