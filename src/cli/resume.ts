import type { Command } from 'commander';
import { action } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';

export function register(program: Command): void {
  program
    .command('resume')
    .description('resume a paused rollout where it stopped')
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who resumes')
    .action(
      action(async (id: string, raw: unknown) => {
        const o = parseOptions('resume', raw);
        const { sendSignal } = await import('./signal');
        return sendSignal(parseArgument('<id>', workflowIdOption, id), 'resume', { by: o.by });
      }),
    );
}
