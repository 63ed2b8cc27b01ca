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

// A change to the workflow that would break rollouts already running fails here.
test.each(files)('replays %s deterministically', async (file) => {
  const history = temporal.api.history.v1.History.decode(readFileSync(path.join(dir, file)));
  await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, file);
});

test('the P95 history runs the current verdict rules (their patch marker) and ends in a p95 rollback', () => {
  const runs = files.filter((f) => f.startsWith('p95-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  expect(bytes[0].includes('rollback-evidence-v2')).toBe(true);
  const last = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]).events.at(-1)!;
  const result = last.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  expect(result).toBeDefined();
  const status = JSON.parse(Buffer.from(result!).toString('utf8'));
  expect(status.rollback).toMatchObject({ trigger: 'p95', groups: ['write'] });
});

test('the v3 histories run rules v3 (their patch marker): an extended window held, a sequential error-rate rollback', () => {
  const final = (prefix: string) => {
    const runs = files.filter((f) => f.startsWith(prefix)).sort();
    expect(runs.length).toBeGreaterThanOrEqual(1);
    const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
    expect(bytes[0].includes('verdicts-v3')).toBe(true);
    const last = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]).events.at(-1)!;
    const data = last.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
    return JSON.parse(Buffer.from(data!).toString('utf8'));
  };
  const held = final('v3-extensions-hold-rollback-');
  expect(held.rollback).toMatchObject({ trigger: 'manual', by: 'bob' });
  expect(held.events.filter((e: { message: string }) => /window extended/.test(e.message))).toHaveLength(3);
  const rolled = final('v3-error-rate-rollback-');
  expect(rolled.rollback.trigger).toBe('errorRate');
  expect(rolled.rollback.reason).toMatch(/by a sequential test/);
});

test('the observed history runs the observing activity (its patch marker): paused, resumed, rolled back on the error rate', () => {
  const runs = files.filter((f) => f.startsWith('observed-pause-error-rate-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  expect(bytes[0].includes('observe-activity')).toBe(true);
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

test('the watched history checks the monitored reads while the writes are applied (its patch marker) and rolls back then', () => {
  const runs = files.filter((f) => f.startsWith('watched-apply-rollback-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const bytes = runs.map((f) => readFileSync(path.join(dir, f)));
  // The marker is in the run that applied the writes (the first continued as new at a step boundary).
  expect(bytes.some((b) => b.includes('watch-while-stepping'))).toBe(true);
  const history = temporal.api.history.v1.History.decode(bytes[bytes.length - 1]);
  const data = history.events.at(-1)!.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
  const status = JSON.parse(Buffer.from(data!).toString('utf8'));
  expect(status.rollback).toMatchObject({ trigger: 'errorRate', groups: ['write', 'read'] });
  expect(status.events.map((e: { message: string }) => e.message)).toContain('applying → rolling-back');
});

test('the Updates history checks its input in an activity (its patch marker) and took four Updates', () => {
  const runs = files.filter((f) => f.startsWith('updates-input-check-')).sort();
  expect(runs.length).toBeGreaterThanOrEqual(1);
  const histories = runs.map((f) => temporal.api.history.v1.History.decode(readFileSync(path.join(dir, f))));
  const events = histories.flatMap((h) => h.events ?? []);
  expect(readFileSync(path.join(dir, runs[0])).includes('input-check-activity')).toBe(true);
  expect(
    events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'validateRolloutInput',
    ).length,
  ).toBe(runs.length);
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
