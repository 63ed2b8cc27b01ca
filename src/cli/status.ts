import type { Command } from 'commander';
import { action, out } from '../client/action';
import { parseArgument, parseOptions, workflowIdOption } from '../client/options';
import { renderStatus } from './format';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'where a rollout is: state, phase, step, percent per group, window, last check, what it waits for',
    )
    .argument('<id>', 'rollout id (rollout-<target>) or target id')
    .option('--json', 'print the status query as is')
    .action(
      action(async (rawId: string, raw: unknown) => {
        const idOrTarget = parseArgument('<id>', workflowIdOption, rawId);
        const opts = parseOptions('status', raw);
        const { findRollout, hasStatus, readStatus, withTemporal } = await import('../client/connect');
        const { pageAddress, rolloutPage } = await import('../client/page-address');
        const page = opts.json ? Promise.resolve(null) : pageAddress(process.env);
        return withTemporal(async (t) => {
          const rollout = await findRollout(t, idOrTarget);
          const s = await readStatus(t, rollout);
          if (opts.json) {
            out.line(JSON.stringify(s, null, 2));
            return;
          }
          if (!hasStatus(s)) {
            out.line(`${s.rolloutId}  failed (${s.workflowStatus.toLowerCase()})`);
            out.line(s.error);
            return;
          }
          out.line(renderStatus(s));
          const base = await page;
          if (base) out.line(`page: ${rolloutPage(base, s.rolloutId)}`);
        });
      }),
    );
}
