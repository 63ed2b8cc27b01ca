/**
 * Notifications end to end: a rollout on the dev server with the real `notify` activity POSTs to
 * a real local HTTP receiver when it waits for approval and when it has rolled back. The receiver
 * fails the first attempt of each event; Temporal retries with the same Idempotency-Key, and the
 * receiver, deduplicating by key, ends up with every event exactly once.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { rolloutWorkflow } from '../../src/workflows';
import { rollbackSignal, statusQuery, TASK_QUEUE, type RolloutStatus } from '../../src/contracts/definitions';
import { approvalPlan, startStack, type Stack } from '../cli/support';

jest.setTimeout(120_000);

interface Attempt {
  key: string | undefined;
  contentType: string | undefined;
  body: Record<string, unknown>;
  answered: number;
}

/**
 * A chat-webhook stand-in. Per key: the first `awaiting-approval` attempt fails before anything
 * is stored (a 500 from a proxy); the first `rolled-back` attempt is stored but answered 500 (the
 * receiver crashed after saving). Either way the retry must not produce a second delivery.
 */
class Receiver {
  readonly attempts: Attempt[] = [];
  readonly delivered = new Map<string, Record<string, unknown>>();
  private server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const key = req.headers['idempotency-key'] as string | undefined;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        /* recorded as {} and answered 400 below */
      }
      const seenBefore = this.attempts.some((a) => a.key === key);
      let status = 200;
      if (!key || typeof body.text !== 'string') status = 400;
      else if (body.kind === 'awaiting-approval' && !seenBefore) status = 500;
      else {
        if (!this.delivered.has(key)) this.delivered.set(key, body);
        if (body.kind === 'rolled-back' && !seenBefore) status = 500;
      }
      this.attempts.push({ key, contentType: req.headers['content-type'], body, answered: status });
      res
        .writeHead(status, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ ok: status === 200 }));
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks/rollouts`;
  }
  stop(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
  deliveredOf(kind: string): Array<Record<string, unknown>> {
    return [...this.delivered.values()].filter((b) => b.kind === kind);
  }
}

let stack: Stack;
const receiver = new Receiver();
beforeAll(async () => {
  await receiver.start();
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
  await receiver.stop();
});

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 45_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}; receiver attempts: ${JSON.stringify(receiver.attempts)}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('awaiting-approval and rolled-back reach the webhook once each, with text and an Idempotency-Key, despite a failing first attempt', async () => {
  const plan = approvalPlan('notify-demo');
  plan.target.baseUrl = stack.backend.url;
  plan.target.traffic = { type: 'http', url: `${stack.backend.url}/admin/rollout`, tokenEnv: 'ADMIN_TOKEN' };
  plan.target.metrics = { type: 'exposition', url: `${stack.backend.url}/metrics` };
  plan.notify = { webhookUrl: receiver.url };
  const handle = await stack.env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: 'rollout-notify-demo',
    args: [{ plan }],
    workflowIdConflictPolicy: 'FAIL',
  });

  const waiting = await until(
    'the awaiting-approval notification',
    () => receiver.deliveredOf('awaiting-approval')[0],
  );
  expect(waiting).toMatchObject({
    kind: 'awaiting-approval',
    rolloutId: 'rollout-notify-demo',
    state: 'awaiting-approval',
    phase: 'reads',
  });
  expect(waiting.text).toMatch(/^\[cli-notify-demo\] approve to start reads at 10%/);

  await handle.signal(rollbackSignal, { by: 'alice', reason: 'severe business impact' });
  const final = (await handle.result()) as RolloutStatus;
  expect(final.state).toBe('rolled-back');

  const rolledBack = receiver.deliveredOf('rolled-back');
  expect(rolledBack).toHaveLength(1);
  expect(rolledBack[0]).toMatchObject({
    kind: 'rolled-back',
    rolloutId: 'rollout-notify-demo',
    state: 'rolled-back',
  });
  expect(rolledBack[0].text).toMatch(/rolled back read \(manual\): severe business impact/);

  // Exactly one delivery per event, two attempts each, both attempts under one key.
  expect(receiver.delivered.size).toBe(2);
  expect(receiver.deliveredOf('awaiting-approval')).toHaveLength(1);
  const keys = [...receiver.delivered.keys()];
  for (const key of keys) {
    const tries = receiver.attempts.filter((a) => a.key === key);
    expect(tries.map((a) => a.answered)).toEqual([500, 200]);
    expect(tries.every((a) => a.contentType?.startsWith('application/json'))).toBe(true);
  }
  expect(new Set(keys).size).toBe(2);
  expect(
    receiver.attempts.every((a) => typeof a.key === 'string' && a.key.startsWith('rollout-notify-demo:')),
  ).toBe(true);
  expect(receiver.attempts).toHaveLength(4);

  // The workflow records each notification once, after its delivery.
  const notes = final.events.filter((e) => e.kind === 'notify').map((e) => e.message);
  expect(notes).toEqual(['notified awaiting-approval', 'notified rolled-back']);
  expect(final.events.some((e) => e.kind === 'warning' && /notification/.test(e.message))).toBe(false);
  const s = await handle.query(statusQuery);
  expect(s.rollback).toMatchObject({ trigger: 'manual', by: 'alice', groups: ['read'] });
});
