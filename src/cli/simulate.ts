/**
 * `rollout simulate <plan>`: the plan's own verdict code on synthetic traffic (seeded, no
 * Temporal, no target): per step, how often a healthy canary is rolled back or held, and how long
 * broken and slow ones take to be rolled back, at the traffic the operator expects.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { formatDuration } from '../plan/duration';
import { faultText, simulatePlan } from '../simulate/plan-report';
import { routingName } from '../simulate/scenarios';
import { BUCKET_LAYOUTS, DEFAULT_LATENCY, trueP95Ms } from '../simulate/traffic-model';
import { action, out } from '../client/action';
import { CliError, EXIT } from '../client/errors';
import { numberOption, textOption } from '../client/options';
import { loadPlanForCli } from './plan-file';

/** Bounds of the options: past them a run takes hours or the model means nothing. */
export const SIMULATE_LIMITS = {
  rps: { min: 0.01, max: 100_000 },
  users: { min: 1, max: 10_000_000 },
  runs: { min: 1, max: 100_000 },
  buckets: 400,
} as const;

/** `backend`, `fine`, or bounds in seconds like `0.05,0.1,0.15,0.2,0.25`. */
const bucketsOption = z.string().transform((raw, ctx) => {
  const name = raw.trim();
  if (name in BUCKET_LAYOUTS) return BUCKET_LAYOUTS[name as keyof typeof BUCKET_LAYOUTS];
  const parts = name.split(',').map((p) => p.trim());
  const bounds = parts.map(Number);
  const bad = parts.findIndex((p, i) => p === '' || !Number.isFinite(bounds[i]) || bounds[i] <= 0);
  const message =
    bad >= 0
      ? `bound ${bad + 1} (${JSON.stringify(parts[bad])}) is not a positive number of seconds`
      : bounds.some((b, i) => i > 0 && b <= bounds[i - 1])
        ? 'bounds must be ascending'
        : bounds.length > SIMULATE_LIMITS.buckets
          ? `at most ${SIMULATE_LIMITS.buckets} bounds (got ${bounds.length})`
          : null;
  if (message === null) return bounds;
  ctx.addIssue({
    code: 'custom',
    message: `must be "backend", "fine" or ascending bounds in seconds like 0.05,0.1,0.25: ${message}`,
  });
  return z.NEVER;
});

const simulateOptions = z.strictObject({
  rps: numberOption({ ...SIMULATE_LIMITS.rps, what: 'requests per second' }),
  users: numberOption({ ...SIMULATE_LIMITS.users, integer: true, what: 'users' }).optional(),
  errorRate: numberOption({ min: 0, max: 0.5, what: 'errors per request' }),
  seed: textOption({ max: 200, hint: 'leave the option out for seed 1' }),
  runs: numberOption({ ...SIMULATE_LIMITS.runs, integer: true, what: 'runs' }),
  buckets: bucketsOption,
});

const flagName = (key: PropertyKey) => `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Checks the options; every problem names its option (exit 2). */
export function parseSimulateOptions(raw: unknown): z.output<typeof simulateOptions> {
  const r = simulateOptions.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => `${flagName(k)}: not an option of this command`)
      : [`${i.path.length ? flagName(i.path[0]) : 'options'}: ${i.message}`],
  );
  if (lines.length === 1) throw new CliError(lines[0], EXIT.invalid);
  throw new CliError(
    `${lines.length} invalid options:`,
    EXIT.invalid,
    lines.map((l) => `  ${l}`),
  );
}

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;

export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      "runs the plan's own verdict code on synthetic traffic (seeded, no Temporal): per step, the chance that a healthy canary is rolled back or held, and the time to roll back 10%/50% errors and +60%/+150% P95",
    )
    .argument('<plan>', 'plan file')
    .option('--rps <n>', 'requests per second of each group (both implementations)', '50')
    .option(
      '--users <n>',
      'sticky routing: this many equally active users, each pinned to one side (default: every request routed on its own)',
    )
    .option('--error-rate <e>', 'base error rate of both implementations', '0.005')
    .option('--seed <s>', 'seed of the synthetic traffic (the same seed gives the same figures)', '1')
    .option('--runs <n>', 'simulated steps per figure', '100')
    .option(
      '--buckets <layout>',
      'latency histogram bounds: backend, fine, or seconds like 0.05,0.1,0.25',
      'backend',
    )
    .action(
      action(async (file: string, raw: unknown) => {
        const o = parseSimulateOptions(raw);
        const { plan } = await loadPlanForCli(file);
        const started = Date.now();
        // Long runs show that they are running; a pipe or a test gets the table alone.
        const progress = process.stderr.isTTY
          ? (done: number, total: number) =>
              process.stderr.write(`\r  ${done}/${total} simulated steps${done === total ? '\n' : ''}`)
          : undefined;
        const sim = await simulatePlan(
          plan,
          {
            rps: o.rps,
            users: o.users,
            errorRate: o.errorRate,
            seed: o.seed,
            runs: o.runs,
            buckets: o.buckets,
          },
          { onProgress: progress },
        );
        if (sim.rows.length === 0)
          throw new CliError(
            `${file}: no step sends traffic to the domain implementation: nothing to simulate`,
            EXIT.invalid,
          );
        out.line(
          `simulated ${plan.name}: ${o.rps} requests/s per group, ${routingName(o.users ? { kind: 'sticky', users: o.users } : { kind: 'per-request' })}, ` +
            `${pct(o.errorRate)} base errors, seed ${JSON.stringify(o.seed)}, ${o.runs} runs per figure`,
        );
        out.line(
          `  latency: lognormal, median ${DEFAULT_LATENCY.medianMs}ms σ ${DEFAULT_LATENCY.sigma} (P95 ${trueP95Ms(DEFAULT_LATENCY).toFixed(0)}ms); ` +
            `${o.buckets.length} histogram bounds; continuous steps watched for 1h`,
        );
        out.line(
          `  healthy: share of steps rolled back / held (95% upper bound); faults: median time to roll back (share rolled back within the window)`,
        );
        out.line('');
        const head = [
          'phase',
          'step',
          'false rollback',
          'hold',
          '10% errors',
          '50% errors',
          'P95 +60%',
          'P95 +150%',
        ];
        const rows = sim.rows.map((r) => [
          r.phase,
          r.step.label.replace(/ \(.*\)$/, ''),
          `${pct(r.healthy.rollbacks / r.healthy.runs)} (≤${pct(r.healthy.rollbackUpper)})`,
          `${pct(r.healthy.holds / r.healthy.runs)} (≤${pct(r.healthy.holdUpper)})`,
          faultText(r.errors10),
          faultText(r.errors50),
          faultText(r.p95x160),
          faultText(r.p95x250),
        ]);
        const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
        for (const r of [head, ...rows])
          out.line(
            r
              .map((c, i) => c.padEnd(widths[i]))
              .join('  ')
              .trimEnd(),
          );
        for (const r of sim.rows) {
          const sample = r.healthy.rollbackReasons[0] ?? r.healthy.holdReasons[0];
          if (sample)
            out.line(
              `  ${r.phase} ${r.step.label}, healthy ${r.healthy.rollbackReasons[0] ? 'rollback' : 'hold'}: ${sample}`,
            );
        }
        if (sim.warnings.length) {
          out.line('');
          for (const w of sim.warnings) out.line(`warning: ${w}`);
        }
        out.line('');
        out.line(`(${formatDuration(Date.now() - started)}; more --runs narrow the bounds)`);
        return EXIT.ok;
      }),
    );
}
