import type { Command } from 'commander';
import { action, out } from '../client/action';
import { CliError, EXIT } from '../client/errors';
import { parseOptions } from '../client/options';

export function register(program: Command): void {
  program
    .command('ui')
    .description(
      'serve the rollout page: every rollout, its stages, live plots and the approve/pause/resume/rollback/complete buttons (until Ctrl-C)',
    )
    .option(
      '--port <port>',
      'port to listen on (ROLLOUT_UI_PORT, default 8400; 0 picks a free one)',
      process.env.ROLLOUT_UI_PORT || '8400',
    )
    .option(
      '--host <address>',
      'address to listen on (ROLLOUT_UI_HOST)',
      process.env.ROLLOUT_UI_HOST || '127.0.0.1',
    )
    .option(
      '--ui-token <token>',
      'the token the buttons need (ROLLOUT_UI_TOKEN; default: a random one, printed)',
    )
    .action(
      action(async (raw: unknown) => {
        const o = parseOptions('ui', raw);
        const { startUi, uiToken } = await import('./server');
        const token = uiToken(o.uiToken ?? process.env.ROLLOUT_UI_TOKEN);
        let ui;
        try {
          ui = await startUi({ host: o.host, port: o.port, token, env: process.env });
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code === 'EADDRINUSE')
            throw new CliError(
              `port ${o.port} on ${o.host} is in use: pick another with --port (or ROLLOUT_UI_PORT).`,
              EXIT.invalid,
            );
          throw err;
        }
        out.line(`rollout page: ${ui.openUrl}`);
        out.line(
          `  (the buttons need the token in that address; Temporal at ${process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233'})`,
        );
        await new Promise<void>((resolve) => {
          for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
        });
        await ui.close();
      }),
    );
}
