import type { Command } from 'commander';
import { action } from './action';
import { sendSignal } from './signal';

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
      action(async (id: string, o: { by: string; reason?: string }) =>
        sendSignal(id, 'pause', { by: o.by, reason: o.reason }),
      ),
    );
}
