/**
 * Issue 9's rollback latency: a 50% domain error rate injected while the reads are observed at
 * 10%, and the time until the example backend routes the reads 0% to the domain again. Real
 * dev server, worker process, backend with synthetic traffic; checks every second (1 minute of
 * plan time at time scale 60). Not a timed test: it prints a table.
 *
 *   npm run bench:rollback-latency [-- --runs 5]
 *
 * Budget: ≤ 2 check intervals + 2 s (median).
 */
import type { PlanInput } from '../src/plan/schema';
import { median } from '../src/simulate/figures';
import type { rolloutWorkflow } from '../src/workflows';
import { TASK_QUEUE } from '../src/contracts/definitions';
import { startWorkerProcess } from '../test/helpers/processes';
import { createDevServerEnv } from '../test/helpers/temporal';
import {
  ADMIN_TOKEN,
  seedPlan,
  startBackend,
  targetAt,
  waitForCleanChecks,
  waitForGroupAtZero,
  waitForStatus,
  type Backend,
} from '../test/e2e/support';

const TIME_SCALE = 60;
const INTERVAL_S = 1;
const TRAFFIC = { rps: 100, writeRatio: 0.3 };

function plan(backend: Backend, id: string): PlanInput {
  const seed = targetAt(seedPlan(), backend, id);
  const [read] = seed.phases;
  return {
    ...seed,
    defaults: {
      ...seed.defaults,
      checkInterval: '1m',
      lookback: '3m',
      baselineWindow: '3m',
      thresholds: { ...seed.defaults?.thresholds, minSamples: 20, servedShare: { tolerance: 1 } },
    },
    phases: [{ ...read, steps: [{ percent: 10, observe: '1h' }, { percent: 100, observe: 'continuous' }] }],
  };
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--runs');
  const runs = i > 0 ? Number(process.argv[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1 || runs > 50) throw new Error('--runs: an integer from 1 to 50');
  const env = await createDevServerEnv();
  const worker = startWorkerProcess(env.address, { ADMIN_TOKEN });
  const rows: Array<{ run: number; zeroS: number; decidedS: number; checks: number }> = [];
  try {
    await worker.waitFor(/rollout worker:/, 180_000);
    for (let run = 1; run <= runs; run++) {
      const backend = await startBackend();
      try {
        backend.startTraffic(TRAFFIC);
        const id = `latency-${run}-${Date.now()}`;
        const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
          taskQueue: TASK_QUEUE,
          workflowId: `rollout-${id}`,
          args: [{ plan: plan(backend, id), timeScale: TIME_SCALE }],
        });
        const before = await waitForCleanChecks(handle, 'read', 3, 120_000);
        if (before.groups.read.percent !== 10) throw new Error(`reads at ${before.groups.read.percent}%, not 10%`);
        const injectedAt = Date.now();
        await backend.admin('PUT', '/admin/faults', { domain: { errorRate: 0.5 } });
        const zeroAt = await waitForGroupAtZero(backend, 'read', 60_000);
        const result = await waitForStatus(handle, (s) => s.state === 'rolled-back', 'rolled-back', 60_000);
        const decidedAt = Date.parse(result.rollback!.at);
        const evidence = result.history.find((h) => h.percent === 10)?.evidence ?? [];
        rows.push({
          run,
          zeroS: (zeroAt - injectedAt) / 1000,
          decidedS: (decidedAt - injectedAt) / 1000,
          checks: evidence.filter((row) => row[0] > injectedAt).length,
        });
        console.log(`run ${run}: ${rows[rows.length - 1].zeroS.toFixed(2)} s to reads at 0%`);
      } finally {
        await backend.traffic?.stop();
        await backend.stop();
      }
    }
  } finally {
    await worker.stop();
    await env.teardown();
  }
  console.log(`\n50% domain error rate at the 10% read step, checks every ${INTERVAL_S} s, ${TRAFFIC.rps} req/s (${TRAFFIC.rps * (1 - TRAFFIC.writeRatio)} reads)\n`);
  console.log('run  decided (s)  reads at 0% (s)  checks after the fault');
  for (const r of rows)
    console.log(`${String(r.run).padStart(3)}  ${r.decidedS.toFixed(2).padStart(11)}  ${r.zeroS.toFixed(2).padStart(15)}  ${String(r.checks).padStart(22)}`);
  const m = median(rows.map((r) => r.zeroS).sort((a, b) => a - b))!;
  console.log(
    `\nmedian to reads at 0%: ${m.toFixed(2)} s = ${(m / INTERVAL_S).toFixed(2)} check intervals; budget 2 intervals + 2 s = ${(2 * INTERVAL_S + 2).toFixed(0)} s`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
