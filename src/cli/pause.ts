import type { Command } from 'commander';
import { action } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';

export function register(program: Command): void {
  program
    .command('pause')
    .description(
      'freeze the rollout: no step advances and the window clock stops; checks and automatic rollback go on',
    )
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who pauses')
    .option('--reason <text>', 'why, for the record')
    .action(
      action(async (id: string, raw: unknown) => {
        const o = parseOptions('pause', raw);
        const { sendSignal } = await import('./signal');
        return sendSignal(parseArgument('<id>', workflowIdOption, id), 'pause', {
          by: o.by,
          reason: o.reason,
        });
      }),
    );
}
