import type { Command } from 'commander';
import { action } from './action';
import { sendSignal } from './signal';

export function register(program: Command): void {
  program
    .command('resume')
    .description('resume a paused rollout where it stopped')
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who resumes')
    .action(action(async (id: string, o: { by: string }) => sendSignal(id, 'resume', { by: o.by })));
}
