/**
 * How long a replacement worker takes to be ready (spawned → "rollout worker:" banner, printed once
 * `Worker.create` is done and polling starts), against a local dev server. Not a timed test: it
 * prints a table.
 *
 *   npm run bench:worker-start [-- --runs 5 --build]
 *
 * `--build` runs `npm run build` first; without it the bench needs a current `dist/` (it says so).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { chooseWorkflowSource, ROOT } from '../src/workflow-bundle';

const binaries = require('../scripts/temporal-binaries') as { ensure(kind: 'cli'): string };

interface Variant {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

const TS_NODE = ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src/worker.ts')];
const VARIANTS: Variant[] = [
  {
    name: 'ts-node, workflows bundled at start (before)',
    args: TS_NODE,
    env: { ROLLOUT_WORKFLOW_BUNDLE: 'off' },
  },
  { name: 'ts-node, prebuilt bundle', args: TS_NODE, env: {} },
  { name: 'compiled JS, prebuilt bundle (after)', args: [path.join(ROOT, 'dist/src/worker.js')], env: {} },
];

function parseArgs(argv: string[]): { runs: number; build: boolean } {
  const o = { runs: 5, build: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--build') o.build = true;
    else if (argv[i] === '--runs') {
      o.runs = Number(argv[++i]);
      if (!Number.isInteger(o.runs) || o.runs < 1 || o.runs > 50)
        throw new Error('--runs: a whole number 1..50');
    } else throw new Error(`unknown option ${argv[i]} (expected --runs N, --build)`);
  }
  return o;
}

/** Milliseconds from spawn to the banner; the worker is stopped (SIGTERM) afterwards. */
function startOnce(variant: Variant, address: string): Promise<{ ms: number; banner: string }> {
  return new Promise((resolve, reject) => {
    const began = process.hrtime.bigint();
    const proc = spawn(process.execPath, variant.args, {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default', ...variant.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let ready: { ms: number; banner: string } | undefined;
    const timer = setTimeout(() => proc.kill('SIGKILL'), 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = /rollout worker:[^\n]*/.exec(out);
      if (line && !ready) {
        ready = { ms: Number(process.hrtime.bigint() - began) / 1e6, banner: line[0] };
        proc.kill('SIGTERM');
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.once('exit', () => {
      clearTimeout(timer);
      if (ready) resolve(ready);
      else reject(new Error(`${variant.name}: the worker exited before its banner:\n${out.slice(-2000)}`));
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { runs, build } = parseArgs(process.argv.slice(2));
  if (build) {
    const began = Date.now();
    const res = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
    if (res.status !== 0) throw new Error(`npm run build exited with ${res.status}`);
    console.log(`npm run build: ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
  }
  const source = chooseWorkflowSource(path.join(ROOT, 'src/workflows/index.ts'), {});
  if (source.kind !== 'bundle') throw new Error(`no current bundle (${source.why}); run with --build`);

  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: binaries.ensure('cli') }, ip: '127.0.0.1' },
  });
  try {
    const rows: string[][] = [];
    for (const variant of VARIANTS) {
      const times: number[] = [];
      let banner = '';
      for (let i = 0; i < runs; i++) {
        const r = await startOnce(variant, env.address);
        times.push(r.ms);
        banner = r.banner;
      }
      const fmt = (ms: number) => (ms / 1000).toFixed(2);
      rows.push([
        variant.name,
        fmt(median(times)),
        fmt(Math.min(...times)),
        fmt(Math.max(...times)),
        banner.replace(/.*workflows: /, ''),
      ]);
    }
    const header = ['worker start', `median s (${runs})`, 'min s', 'max s', 'workflows'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
    console.log(line(header));
    console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
    for (const r of rows) console.log(line(r));
  } finally {
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
