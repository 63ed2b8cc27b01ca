/**
 * Issue 9's history budget: the seed plan (`plans/phase2-3.yaml`) with its 10 s checks and real
 * windows, run on the time-skipping test server against the test fake, and the history it
 * writes: events and bytes per run and in all, runs. Not a timed test: it prints a table.
 *
 *   npm run bench:history [-- --per-check]
 *
 * The observation runs each 30-minute slice on a virtual clock and returns at once; the workflow
 * then waits on a catch-up timer for the time the slice observed. In production the activity
 * takes that time itself, so the catch-up timers (5 events each) are counted and taken off for
 * the "production" column. `--per-check` adds the row of one observation per check: what a
 * timer and an activity per check cost (the design before issue 9).
 */
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { approveSignal, completeSignal, statusQuery } from '../src/contracts/definitions';
import { createTimeSkippingEnv } from '../test/helpers/temporal';
import { FakeTarget, historiesOf, seedPlan, withRollout } from '../test/helpers/workflow-harness';

type Event = temporal.api.history.v1.IHistoryEvent;

interface Row {
  mode: string;
  checks: number;
  runs: number;
  events: number;
  largest: number;
  bytes: number;
  catchUps: number;
  wallS: number;
}

/** A TimerStarted decided right after an observation completed (nothing else in between). */
function catchUpTimers(events: Event[]): number {
  const types = new Map<string, string>();
  let last: string | null = null;
  let n = 0;
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) types.set(String(e.eventId), scheduled.activityType?.name ?? '');
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed) last = types.get(String(completed.scheduledEventId)) ?? null;
    else if (e.timerStartedEventAttributes) {
      if (last === 'observeWindow') n += 1;
      last = null;
    } else if (!e.workflowTaskScheduledEventAttributes && !e.workflowTaskStartedEventAttributes && !e.workflowTaskCompletedEventAttributes)
      last = null;
  }
  return n;
}

async function runSeedPlan(wholeSlices: boolean): Promise<Row> {
  const env = await createTimeSkippingEnv();
  try {
    const plan = seedPlan();
    if (plan.defaults.checkInterval !== '10s') throw new Error(`the seed plan checks every ${plan.defaults.checkInterval}, not 10s`);
    const target = new FakeTarget();
    target.wholeSlices = wholeSlices;
    const started = Date.now();
    const histories = await withRollout(env, target, plan, async (handle) => {
      for (let i = 0; ; i++) {
        const s = await handle.query(statusQuery);
        if (s.state === 'monitoring' && s.group === 'write') break;
        if (s.state === 'awaiting-approval') await handle.signal(approveSignal, { by: 'bench' });
        // `pending` while the input is checked (an activity since the input-check patch).
        else if (!['pending', 'observing', 'verifying', 'applying', 'monitoring'].includes(s.state))
          throw new Error(`the seed plan stopped in ${s.state} at ${s.phase} ${s.percent}%`);
        if (i > 500) throw new Error('the seed plan did not finish');
        await env.sleep('30m');
      }
      await handle.signal(completeSignal, { by: 'bench' });
      // A per-check history is past gRPC's default 4 MB message limit: read it on a channel that
      // takes more (the test server sends a history in one message, whatever the page size).
      const connection = await Connection.connect({
        address: env.address,
        channelArgs: { 'grpc.max_receive_message_length': 256 * 1024 * 1024 },
      });
      const client = new Client({ connection });
      await client.workflow.getHandle(handle.workflowId).result();
      const runs = await historiesOf(client, handle.workflowId, handle.firstExecutionRunId);
      await connection.close();
      return runs.map((r) => r.events);
    });
    const all = histories.flat();
    return {
      mode: wholeSlices ? 'one observation per 30m slice' : 'one observation per check',
      checks: target.sampleCalls,
      runs: histories.length,
      events: all.length,
      largest: Math.max(...histories.map((h) => h.length)),
      bytes: histories.reduce((n, events) => n + temporal.api.history.v1.History.encode({ events }).finish().length, 0),
      catchUps: catchUpTimers(all),
      wallS: (Date.now() - started) / 1000,
    };
  } finally {
    await env.teardown();
  }
}

async function main(): Promise<void> {
  const rows = [await runSeedPlan(true)];
  if (process.argv.includes('--per-check')) rows.push(await runSeedPlan(false));
  console.log('\nseed plan (phase2-3.yaml), 10 s checks, real windows, phase 3 approved at once, completed at 100%\n');
  const head = ['design', 'checks', 'runs', 'events', 'largest run', 'KiB', 'catch-up timers', 'production events', 'wall'];
  const table = rows.map((r) => [
    r.mode,
    String(r.checks),
    String(r.runs),
    String(r.events),
    String(r.largest),
    (r.bytes / 1024).toFixed(0),
    String(r.catchUps),
    // One check per observation is the earlier design itself, its timer per check included.
    String(r.mode === 'one observation per check' ? r.events : r.events - 5 * r.catchUps),
    `${r.wallS.toFixed(0)}s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const row of table) console.log(line(row));
  console.log('\nbudget (issue 9): ≤ 1,500 events in all, ≤ 2 runs');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
