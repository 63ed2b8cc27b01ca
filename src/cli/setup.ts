import type { Command } from 'commander';
import { SEARCH_ATTRIBUTES } from '../contracts/definitions';
import { action, out } from '../client/action';
import { parseOptions } from '../client/options';

export function register(program: Command): void {
  program
    .command('setup')
    .description(
      `register the search attributes (${Object.keys(SEARCH_ATTRIBUTES).join(', ')}) on the namespace; safe to run again`,
    )
    .action(
      action(async (raw: unknown) => {
        parseOptions('setup', raw);
        const { withTemporal } = await import('../client/connect');
        const { registerSearchAttributes } = await import('../client/search-attributes');
        return withTemporal(async (t) => {
          const added = await t.timed(30_000, () =>
            registerSearchAttributes(t.connection, t.settings.namespace),
          );
          const all = Object.entries(SEARCH_ATTRIBUTES)
            .map(([k, v]) => `${k} (${v})`)
            .join(', ');
          if (added.length)
            out.line(
              `registered ${added.join(', ')} on namespace ${t.settings.namespace} at ${t.settings.address}`,
            );
          else
            out.line(
              `already registered on namespace ${t.settings.namespace} at ${t.settings.address}: nothing to do`,
            );
          out.line(`search attributes: ${all}`);
        });
      }),
    );
}
