import type { Command } from 'commander';
import { action } from '../client/action';
import { parseOptions } from '../client/options';

export function register(program: Command): void {
  program
    .command('verify')
    .description(
      "one-shot check of the current stage (the seed's tools/rollout_phase2_3.sh): probes, write probe, data consistency and a metrics sample",
    )
    .argument('<plan>', 'plan file')
    .option('--phase <name>', 'phase name or group to verify (default: every phase whose group is above 0%)')
    .option('--target-url <url>', "verify this base URL instead of the plan's")
    .option('--window <duration>', 'how long to sample the metrics', '15s')
    .option('--no-metrics', 'skip the metrics sample (probes and consistency only)')
    .option('--json', 'print the results as JSON')
    .option('--explain', 'show what the metrics sample reads: queries or series, series matched, counts, scrape interval, a diagnosis per figure')
    .action(
      action(async (file: string, raw: unknown) => {
        const o = parseOptions('verify', raw);
        const { verifyStage } = await import('./verify-stage');
        return verifyStage(file, o);
      }),
    );
}
