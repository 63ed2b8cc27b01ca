import type { Command } from 'commander';
import { action } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';

export function register(program: Command): void {
  program
    .command('rollback')
    .description(
      "revert now: the group's share to 0 (and every later phase already started), confirmed on the target",
    )
    .argument('<id>', 'rollout id or target id')
    .requiredOption('--by <name>', 'who rolls back')
    .option('--reason <text>', 'why, for the record (e.g. "严重业务影响 / severe business impact")')
    .option('--group <group>', "which group to revert (default: the current phase's)")
    .action(
      action(async (id: string, raw: unknown) => {
        const o = parseOptions('rollback', raw);
        const { sendSignal } = await import('./signal');
        return sendSignal(parseArgument('<id>', workflowIdOption, id), 'rollback', {
          by: o.by,
          reason: o.reason,
          ...(o.group !== undefined ? { group: o.group } : {}),
        });
      }),
    );
}
