import { startTraffic, type TrafficStats } from './traffic-generator';

export { startTraffic, validateTrafficOptions } from './traffic-generator';
export type { TrafficOptions, TrafficRun, TrafficStats } from './traffic-generator';

/**
 * `npm run traffic -- --target URL --rps N [--duration 60s] [--write-ratio 0.1] [--users 100000]
 * [--max-cameras 20] [--allow-remote]`: runs until the duration ends or SIGINT/SIGTERM, then
 * deletes the cameras it created.
 */

const USAGE =
  'usage: npm run traffic -- --target http://127.0.0.1:8000 --rps 20 [--duration 60s] [--write-ratio 0.1] ' +
  '[--users 100000] [--max-cameras 20] [--allow-remote]';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] ?? 's'];
}

export interface TrafficArgs {
  target: string;
  rps: number;
  durationMs?: number;
  writeRatio: number;
  users?: number;
  maxCameras?: number;
  allowRemote: boolean;
}

/** Accepts `--name value` and `--name=value`; anything unknown or malformed is an error naming the flag. */
export function parseTrafficArgs(argv: string[]): TrafficArgs {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(arg)}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (name === 'allow-remote' || name === 'help') {
      flags.add(name);
      continue;
    }
    if (!['target', 'rps', 'duration', 'write-ratio', 'users', 'max-cameras'].includes(name)) {
      throw new Error(`unknown option --${name}`);
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  if (flags.has('help')) throw new Error(USAGE);

  const number = (name: string, check: (n: number) => boolean, what: string): number | undefined => {
    const raw = values.get(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || !check(n))
      throw new Error(`--${name}: must be ${what} (got ${JSON.stringify(raw)})`);
    return n;
  };

  const target = values.get('target');
  if (!target) throw new Error('--target is required');
  const rawDuration = values.get('duration');
  const durationMs = rawDuration === undefined ? undefined : parseDurationMs(rawDuration);
  if (rawDuration !== undefined && !(durationMs && durationMs > 0)) {
    throw new Error(`--duration: must look like 500ms, 30s, 5m or 1h (got ${JSON.stringify(rawDuration)})`);
  }
  return {
    target,
    rps: number('rps', (n) => n > 0 && n <= 10_000, 'a number in (0, 10000]') ?? 10,
    durationMs,
    writeRatio: number('write-ratio', (n) => n >= 0 && n <= 1, 'a number 0..1') ?? 0.1,
    users: number('users', (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    maxCameras: number('max-cameras', (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    allowRemote: flags.has('allow-remote'),
  };
}

function summary(stats: TrafficStats): string {
  const statuses = Object.entries(stats.byStatus)
    .map(([status, n]) => `${status}:${n}`)
    .join(' ');
  const impls = Object.entries(stats.byImpl)
    .map(([impl, n]) => `${impl}:${n}`)
    .join(' ');
  return (
    `${(stats.elapsedMs / 1000).toFixed(0)}s sent=${stats.sent} ok=${stats.completed} failed=${stats.failed} ` +
    `skipped=${stats.skipped} writes=${stats.writes} status[${statuses}] served-by[${impls}] cameras=${stats.ownedCameras}`
  );
}

async function main(): Promise<void> {
  let args: TrafficArgs;
  try {
    args = parseTrafficArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`traffic: ${(error as Error).message}`);
    process.exitCode = 2;
    return;
  }
  const run = startTraffic(args);
  console.log(
    `traffic: ${args.rps} req/s to ${args.target}, ${Math.round(args.writeRatio * 100)}% writes` +
      (args.durationMs ? ` for ${args.durationMs / 1000}s` : ' until Ctrl-C'),
  );
  const progress = setInterval(() => console.log(`traffic: ${summary(run.stats())}`), 5000);
  const onSignal = (signal: string) => {
    console.log(`traffic: ${signal}, stopping and deleting synthetic cameras`);
    void run.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await run.done;
  clearInterval(progress);
  const stats = run.stats();
  console.log(
    `traffic: done ${summary(stats)} cleanup deleted=${stats.cleanup.deleted} failed=${stats.cleanup.failed}`,
  );
  process.exit(stats.cleanup.failed > 0 ? 1 : 0);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`traffic: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
