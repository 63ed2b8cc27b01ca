import type { Command } from 'commander';
import { action } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';

export function register(program: Command): void {
  program
    .command('complete')
    .description('end continuous monitoring once every phase is at its last step')
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who completes')
    .action(
      action(async (id: string, raw: unknown) => {
        const o = parseOptions('complete', raw);
        const { sendSignal } = await import('./signal');
        return sendSignal(parseArgument('<id>', workflowIdOption, id), 'complete', { by: o.by });
      }),
    );
}
