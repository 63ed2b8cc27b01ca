/**
 * Issue 9's scale figures: N rollouts at once on this box, with 10 s checks. The real dev server,
 * one worker process, and `bench/synthetic-targets.ts` (N targets in one process) as processes;
 * each rollout is the seed plan's read phase (1m baseline, 10% for 30m, …) against its own target.
 * Not a timed test: it prints a table.
 *
 *   npm run bench:concurrency [-- --rollouts 1000 --minutes 5 --ops-minutes 2 --ops-rate 0.5 --rps 5 --profile DIR]
 *
 * Three periods are measured. The ramp: from the first start until every rollout observes its 10%
 * window (each starts, measures its baseline for a minute, applies 10%, verifies it, observes).
 * The steady state: the next `--minutes`, every rollout observing and nobody acting, so the
 * workflows have nothing to decide. Operators: the next `--ops-minutes`, an operator pauses a
 * random rollout and resumes it 2 s later, `--ops-rate` times a second: decisions under load, most
 * of them for rollouts the worker no longer caches.
 * - check cadence: the intervals between two metrics reads of one target, as the target saw them;
 * - workflow-task schedule-to-start: from each rollout's history (WorkflowTaskScheduled → Started);
 * - history events per second: every rollout's events in the period, from the histories;
 * - CPU (% of one core) and RSS of the worker and of the Temporal dev server, sampled from /proc.
 * Budget (issue 9), steady state at 1,000 rollouts: cadence p99 ≤ 12 s, workflow-task
 * schedule-to-start p99 ≤ 250 ms, worker RSS ≤ 1 GiB, < 20 history events/s.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import axios from 'axios';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { PlanInput } from '../src/plan/schema';
import { quantile as sortedQuantile } from '../src/simulate/figures';
import {
  TASK_QUEUE,
  rolloutPercentKey,
  rolloutPhaseKey,
  rolloutStateKey,
  rolloutTargetKey,
} from '../src/contracts/definitions';
import { freePort, ROOT, startProcess, startWorkerProcess, type Child } from '../test/helpers/processes';
import { createDevServerEnv } from '../test/helpers/temporal';

const EventType = temporal.api.enums.v1.EventType;

interface Options {
  rollouts: number;
  minutes: number;
  rps: number;
  opsMinutes: number;
  /** Pause-and-resume pairs per second in the operators' period. */
  opsRate: number;
  /** A directory for the worker's CPU profiles (`--cpu-prof`). */
  profile?: string;
}

function options(argv: string[]): Options {
  const num = (name: string, fallback: number, min: number, max: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const n = Number(argv[i + 1]);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name}: a number from ${min} to ${max}`);
    return n;
  };
  const p = argv.indexOf('--profile');
  return {
    rollouts: num('rollouts', 1000, 1, 5000),
    minutes: num('minutes', 5, 1, 60),
    rps: num('rps', 5, 0.1, 100),
    opsMinutes: num('ops-minutes', 2, 0, 60),
    opsRate: num('ops-rate', 0.5, 0.01, 20),
    ...(p >= 0 ? { profile: argv[p + 1] } : {}),
  };
}

function plan(base: string, i: number): PlanInput {
  const id = `bench-${i}`;
  return {
    name: `concurrency-${i}`,
    target: {
      id,
      baseUrl: `${base}/t/${id}`,
      traffic: { type: 'http', url: `${base}/t/${id}/admin/rollout` },
      metrics: { type: 'exposition', url: `${base}/t/${id}/metrics` },
    },
    defaults: { checkInterval: '10s', baselineWindow: '1m' },
    phases: [
      {
        name: 'read',
        group: 'read',
        endpoints: ['GET /api/v1/things'],
        checks: ['errorRate', 'successRate', 'p95', 'servedShare'],
        steps: [
          { percent: 10, observe: '30m' },
          { percent: 25, observe: '1h' },
          { percent: 100, observe: 'continuous' },
        ],
      },
    ],
  };
}

/** CPU seconds and RSS of a process, from /proc. */
function usage(pid: number): { cpuS: number; rssMiB: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, rssMiB: rss ? Number(rss[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

/** The dev server the environment started: the process listening on its port. */
function devServerPid(address: string): number | undefined {
  const port = address.split(':').pop();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmd.includes('start-dev') && cmd.includes(port!)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Samples CPU (% of one core, between samples) and RSS of some processes every `everyMs`. */
function sampler(pids: Record<string, number | undefined>, everyMs = 5000) {
  const series: Record<string, { cpu: number[]; rss: number[] }> = {};
  let last: Record<string, { cpuS: number; at: number } | undefined> = {};
  const take = () => {
    const next: typeof last = {};
    for (const [name, pid] of Object.entries(pids)) {
      const u = pid === undefined ? undefined : usage(pid);
      if (!u) continue;
      const s = (series[name] ??= { cpu: [], rss: [] });
      const prev = last[name];
      const at = Date.now();
      if (prev) s.cpu.push((100 * (u.cpuS - prev.cpuS)) / ((at - prev.at) / 1000));
      s.rss.push(u.rssMiB);
      next[name] = { cpuS: u.cpuS, at };
    }
    last = next;
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop(): typeof series {
      clearInterval(timer);
      take();
      return series;
    },
  };
}

const quantile = (xs: number[], q: number) => sortedQuantile([...xs].sort((a, b) => a - b), q) ?? NaN;
const ms = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) =>
  Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);

/** Runs `fn` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

interface HistoryFigures {
  events: Array<{ at: number; type: number }>;
  wftLatencies: Array<{ at: number; ms: number }>;
}

async function historyOf(client: Client, workflowId: string): Promise<HistoryFigures> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = (history.events ?? []).map((e) => ({ at: ms(e.eventTime), type: e.eventType ?? 0 }));
  const wftLatencies: HistoryFigures['wftLatencies'] = [];
  let scheduled: number | undefined;
  for (const e of events) {
    if (e.type === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) scheduled = e.at;
    if (e.type === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED && scheduled !== undefined) {
      wftLatencies.push({ at: scheduled, ms: e.at - scheduled });
      scheduled = undefined;
    }
  }
  return { events, wftLatencies };
}

/** The worker's largest memory report (bench/memory-probe.js): where its RSS goes. */
function memoryBreakdown(output: string): string {
  const reports = [...output.matchAll(/memory: (\{.*\})/g)].map(
    (m) => JSON.parse(m[1]) as { rss: number; heapTotal: number; heapUsed: number; external: number },
  );
  if (reports.length === 0) return 'worker memory: no report';
  const top = reports.reduce((a, b) => (b.rss > a.rss ? b : a));
  const rest = top.rss - top.heapTotal - top.external;
  return `worker memory at its largest: RSS ${top.rss} MiB = main thread JS heap ${top.heapTotal} MiB (${top.heapUsed} used) + buffers ${top.external} MiB + the rest ${rest} MiB (workflow thread, SDK core, code)`;
}

/**
 * Pauses a random rollout and resumes it 2 s later, `opsRate` times a second for `opsMinutes`.
 * Returns how many pairs were sent.
 */
async function operators(client: Client, o: Options): Promise<number> {
  const endAt = Date.now() + o.opsMinutes * 60_000;
  const pending: Array<Promise<unknown>> = [];
  let n = 0;
  let seed = 9;
  const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
  while (Date.now() < endAt) {
    const handle = client.workflow.getHandle(`rollout-bench-${Math.floor(random() * o.rollouts)}`);
    pending.push(
      (async () => {
        await handle.signal('pause', { by: 'bench', reason: 'operators period' });
        await new Promise((r) => setTimeout(r, 2000));
        await handle.signal('resume', { by: 'bench' });
      })(),
    );
    n += 1;
    await new Promise((r) => setTimeout(r, 1000 / o.opsRate));
  }
  await Promise.all(pending);
  return n;
}

const RUNNING = `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus = 'Running'`;

async function countAt10(client: Client): Promise<number> {
  const { count } = await client.workflow.count(`${RUNNING} AND RolloutState = 'observing' AND RolloutPercent = 10`);
  return count;
}

/** How many running rollouts are in each state before observing, e.g. `pending 3, applying 1`. */
async function states(client: Client): Promise<string> {
  // One count per state: the dev server's SQLite visibility has no GROUP BY.
  const counts: string[] = [];
  for (const state of ['pending', 'applying', 'verifying', 'holding', 'rolled-back']) {
    const { count } = await client.workflow.count(`${RUNNING} AND RolloutState = '${state}'`);
    if (count > 0) counts.push(`${state} ${count}`);
  }
  return counts.join(', ') || 'none elsewhere';
}

async function main(): Promise<void> {
  const o = options(process.argv.slice(2));
  const env = await createDevServerEnv();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const targets: Child = startProcess(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', path.join(ROOT, 'bench/synthetic-targets.ts'), '--port', String(port), '--rps', String(o.rps)],
    process.env,
  );
  let worker: Child | undefined;
  try {
    await targets.waitFor(/listening/, 60_000);
    // As production runs it: compiled, from the prebuilt bundle, with the production heartbeat
    // throttle (the test helper's default is 250 ms); `memory-probe.js` reports its memory.
    const built = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stdout}${built.stderr}`);
    worker = startWorkerProcess(
      env.address,
      { ROLLOUT_HEARTBEAT_THROTTLE: '2s' },
      [
        '-r',
        path.join(ROOT, 'bench/memory-probe.js'),
        ...(o.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(o.profile)}`] : []),
      ],
      'built',
    );
    await worker.waitFor(/rollout worker:/, 180_000);
    const pids = { worker: worker.proc.pid, temporal: devServerPid(env.address), targets: targets.proc.pid };
    const ids = Array.from({ length: o.rollouts }, (_v, i) => i);
    const startedAt = Date.now();
    const ramp = sampler(pids);
    await pool(ids, 10, async (i) => {
      await env.client.workflow.start('rolloutWorkflow', {
        taskQueue: TASK_QUEUE,
        workflowId: `rollout-bench-${i}`,
        args: [{ plan: plan(base, i), timeScale: 1 }],
        typedSearchAttributes: [
          { key: rolloutStateKey, value: 'pending' },
          { key: rolloutPhaseKey, value: 'none' },
          { key: rolloutPercentKey, value: 0 },
          { key: rolloutTargetKey, value: `bench-${i}` },
        ],
      });
    });
    const allStartedS = (Date.now() - startedAt) / 1000;
    console.log(`${o.rollouts} rollouts started in ${allStartedS.toFixed(1)} s`);
    for (;;) {
      const n = await countAt10(env.client).catch(() => 0);
      if (n >= o.rollouts) break;
      if (Date.now() - startedAt > 20 * 60_000) throw new Error(`only ${n} of ${o.rollouts} rollouts observe at 10% after 20 minutes`);
      const shown = await states(env.client).catch((err: unknown) => String(err));
      console.log(`${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${n} of ${o.rollouts} observing at 10% (${shown})`);
      await new Promise((r) => setTimeout(r, 5000));
    }
    const steadyAt = Date.now();
    const rampUsage = ramp.stop();
    console.log(`all observing at 10% ${((steadyAt - startedAt) / 1000).toFixed(0)} s after the first start; measuring ${o.minutes} min`);
    const steady = sampler(pids);
    await new Promise((r) => setTimeout(r, o.minutes * 60_000));
    const endAt = Date.now();
    const steadyUsage = steady.stop();
    const ops = sampler(pids);
    const acted = await operators(env.client, o);
    const opsEndAt = Date.now();
    const opsUsage = ops.stop();
    const { data: stats } = await axios.get<{ intervals: number[] }>(`${base}/stats`, {
      params: { since: steadyAt, until: endAt },
    });
    const figures: HistoryFigures[] = [];
    await pool(ids, 10, async (i) => {
      figures.push(await historyOf(env.client, `rollout-bench-${i}`));
    });
    const still = await countAt10(env.client);

    const period = (from: number, to: number) => {
      const events = figures.reduce((n, f) => n + f.events.filter((e) => e.at >= from && e.at < to).length, 0);
      const wft = figures.flatMap((f) => f.wftLatencies.filter((l) => l.at >= from && l.at < to).map((l) => l.ms));
      return { events, eventsPerS: events / ((to - from) / 1000), wft };
    };
    const r = period(startedAt, steadyAt);
    const s = period(steadyAt, endAt);
    const a = period(endAt, opsEndAt);
    const cadence = stats.intervals.map((x) => x / 1000);
    const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
    const use = (u: ReturnType<ReturnType<typeof sampler>['stop']>, name: string) => {
      const x = u[name];
      if (!x) return '-';
      return `${fmt(quantile(x.cpu, 0.5), 0)}% / ${fmt(Math.max(...x.rss), 0)} MiB`;
    };
    const row = (name: string, from: number, to: number, p: typeof r, u: typeof rampUsage) =>
      `${name.padEnd(28)}${fmt((to - from) / 1000, 0).padStart(6)} s ${String(p.events).padStart(8)} ${fmt(p.eventsPerS).padStart(9)} ${String(p.wft.length).padStart(5)}  ${`${fmt(quantile(p.wft, 0.5), 0)} / ${fmt(quantile(p.wft, 0.99), 0)} / ${fmt(Math.max(...p.wft, 0), 0)}`.padEnd(36)}  ${use(u, 'worker').padEnd(20)}  ${use(u, 'temporal').padEnd(22)}  ${use(u, 'targets')}`;
    console.log(`
rollouts ${o.rollouts}, checks every 10 s, ${o.rps} requests/s per target, ${still} still observing at 10% at the end
period                        length   events  events/s  WFTs  WFT sched→start p50 / p99 / max (ms)  worker CPU / RSS max  temporal CPU / RSS max  targets CPU
${row('ramp (start → all at 10%)', startedAt, steadyAt, r, rampUsage)}
${row('steady (all observing)', steadyAt, endAt, s, steadyUsage)}
${row(`operators (${acted} pause+resume)`, endAt, opsEndAt, a, opsUsage)}

check cadence in the steady state (s): ${cadence.length} intervals, p50 ${fmt(quantile(cadence, 0.5), 2)}, p99 ${fmt(quantile(cadence, 0.99), 2)}, max ${fmt(Math.max(...cadence), 2)}
${memoryBreakdown(worker.output())}
budget (issue 9, at 1,000): cadence p99 ≤ 12 s, WFT schedule-to-start p99 ≤ 250 ms, worker RSS ≤ 1 GiB, < 20 events/s (steady)`);
  } catch (err) {
    console.log(`worker output (last 3,000 characters):\n${worker?.output().slice(-3000)}`);
    throw err;
  } finally {
    // SIGINT lets a profiled worker write its profile.
    await worker?.stop(o.profile ? 'SIGINT' : 'SIGKILL');
    await targets.stop('SIGKILL');
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
