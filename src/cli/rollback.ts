import type { Command } from 'commander';
import { action } from './action';
import { sendSignal } from './signal';

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
      action(async (id: string, o: { by: string; reason?: string; group?: string }) =>
        sendSignal(id, 'rollback', { by: o.by, reason: o.reason, ...(o.group ? { group: o.group } : {}) }),
      ),
    );
}
