import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { workflowBundle } from '../helpers/temporal';

jest.setTimeout(300_000);

const dir = path.join(__dirname, 'histories');
const files = readdirSync(dir).filter((f) => f.endsWith('.history.bin'));

test('recorded histories exist', () => {
  expect(files.length).toBeGreaterThanOrEqual(3);
});

// 0.2.0 retired every patch of 0.1 (rollouts are pinned to the worker version that started them):
// no history recorded with the code that stays carries one of their markers.
const RETIRED_PATCHES = ['rollback-evidence-v2', 'verdicts-v3', 'observe-activity', 'watch-while-stepping', 'input-check-activity'];
test.each(files)('%s carries no marker of a retired patch', (file) => {
  const bytes = readFileSync(path.join(dir, file));
  for (const id of RETIRED_PATCHES) expect(bytes.includes(id)).toBe(false);
});

// A change to the workflow that would break rollouts already running fails here.
test.each(files)('replays %s deterministically', async (file) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(path.join(dir, file)));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
});

test('the P95 history ends in a p95 rollback', () => {
  const runs = files.filter((f) => f.startsWith('p95-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  const last = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]).events.at(-1)!;
  const result = last.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  expect(result).toBeDefined();
  const status = JSON.parse(Buffer.from(result!).toString('utf8'));
  expect(status.rollback).toMatchObject({ trigger: 'p95', groups: ['write'] });
});

test('the verdict histories: an extended window held, a sequential error-rate rollback', () => {
  const final = (prefix: string) => {
    const runs = files.filter((f) => f.startsWith(prefix)).sort();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
    const last = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]).events.at(-1)!;
    const data = last.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
    return JSON.parse(Buffer.from(data!).toString('utf8'));
  };
  const held = final('extensions-hold-rollback-');
  expect(held.rollback).toMatchObject({ trigger: 'manual', by: 'bob' });
  expect(held.events.filter((e: { message: string }) => /window extended/.test(e.message))).toHaveLength(3);
  const rolled = final('sequential-error-rate-rollback-');
  expect(rolled.rollback.trigger).toBe('errorRate');
  expect(rolled.rollback.reason).toMatch(/by a sequential test/);
});

test('the observed history runs the observing activity: paused, resumed, rolled back on the error rate', () => {
  const runs = files.filter((f) => f.startsWith('observed-pause-error-rate-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  const history = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]);
  expect(
    history.events.some(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'observeWindow',
    ),
  ).toBe(true);
  const data = history.events.at(-1)!.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  const status = JSON.parse(Buffer.from(data!).toString('utf8'));
  expect(status.rollback.trigger).toBe('errorRate');
  expect(status.events.map((e: { message: string }) => e.message)).toEqual(
    expect.arrayContaining(['pause accepted: deploy freeze', 'resume accepted']),
  );
});

test('the watched history checks the monitored reads while the writes are applied and rolls back then', () => {
  const runs = files.filter((f) => f.startsWith('watched-apply-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  // The run that applied the writes observed the reads meanwhile (an observation while applyTraffic ran).
  const applying = bytes
    .map((b) => temporal.api.history.v1.History.decode(b))
    .find((h) =>
      h.events.some(
        (e) =>
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'applyTraffic' &&
          h.events.some((o) => o.activityTaskScheduledEventAttributes?.activityType?.name === 'observeWindow'),
      ),
    );
  expect(applying).toBeDefined();
  const history = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]);
  const data = history.events.at(-1)!.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  const status = JSON.parse(Buffer.from(data!).toString('utf8'));
  expect(status.rollback).toMatchObject({ trigger: 'errorRate', groups: ['write', 'read'] });
  expect(status.events.map((e: { message: string }) => e.message)).toContain('applying → rolling-back');
});

test('the Updates history checks its input in an activity once (not at continue-as-new) and took four Updates', () => {
  const runs = files.filter((f) => f.startsWith('updates-input-check-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const histories = runs.map((f) => temporal.api.history.v1.History.decode(readFileSync(path.join(dir, f))));
  const events = histories.flatMap((h) => h.events ?? []);
  // Only the first run checks it: a run continued as new carries a plan checked at the start.
  expect(runs.length).toBeGreaterThan(1);
  expect(
    events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'validateRolloutInput',
    ).length,
  ).toBe(1);
  const accepted = events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(
    accepted.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name),
  ).toEqual(['pause', 'resume', 'approve', 'rollback']);
  const last = histories[histories.length - 1].events!.at(-1)!;
  const status = JSON.parse(
    Buffer.from(last.workflowExecutionCompletedEventAttributes!.result!.payloads![0].data!).toString('utf8'),
  );
  expect(status.rollback).toMatchObject({ trigger: 'manual', by: 'alice', reason: 'end of recording' });
});
