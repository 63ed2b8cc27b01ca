import type { Command } from 'commander';
import { action } from './action';
import { sendSignal } from './signal';

export function register(program: Command): void {
  program
    .command('complete')
    .description('end continuous monitoring once every phase is at its last step')
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who completes')
    .action(action(async (id: string, o: { by: string }) => sendSignal(id, 'complete', { by: o.by })));
}
