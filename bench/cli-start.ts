/**
 * How long `npx rollout` takes to answer (issue 10): `rollout --help` and `rollout status` of an
 * unknown id against a closed port (the CLI's whole path up to the first network call), N times
 * per loader, as subprocesses. Not a timed test: it prints a table of medians.
 *
 *   npm run bench:cli-start [-- --runs 10]
 *
 * Loaders (`ROLLOUT_CLI_LOADER`): ts-node (before), swc (the default now), built (dist/, after
 * `npm run build`; skipped when there is none).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { quantile } from '../src/simulate/figures';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin/rollout.js');

function runs(argv: string[]): number {
  const i = argv.indexOf('--runs');
  const n = i >= 0 ? Number(argv[i + 1]) : 10;
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new Error('--runs: a whole number from 1 to 100');
  return n;
}

function timeOf(loader: string, args: string[]): number {
  const began = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, ROLLOUT_CLI_LOADER: loader, TEMPORAL_ADDRESS: '127.0.0.1:9' },
    encoding: 'utf8',
  });
  const ms = Number(process.hrtime.bigint() - began) / 1e6;
  if (r.status === null) throw new Error(`${loader} ${args.join(' ')}: killed`);
  return ms;
}

function main(): void {
  const n = runs(process.argv.slice(2));
  const loaders = ['ts-node', 'swc', ...(existsSync(path.join(ROOT, 'dist/src/cli/main.js')) ? ['built'] : [])];
  const commands = [['--help'], ['status', 'rollout-none']];
  console.log(`rollout CLI, wall time to exit (ms), median of ${n}`);
  console.log(`loader     ${commands.map((c) => c.join(' ').padStart(22)).join('')}   vs ts-node`);
  const medians: Record<string, number[]> = {};
  for (const loader of loaders) {
    medians[loader] = commands.map((c) => {
      const xs = Array.from({ length: n }, () => timeOf(loader, c)).sort((a, b) => a - b);
      return quantile(xs, 0.5) ?? NaN;
    });
    const ratio = medians[loader][0] / medians['ts-node'][0];
    console.log(`${loader.padEnd(10)} ${medians[loader].map((m) => m.toFixed(0).padStart(22)).join('')}   ×${ratio.toFixed(2)}`);
  }
}

main();
