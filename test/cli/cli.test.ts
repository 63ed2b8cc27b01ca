/**
 * `npx rollout` as an operator runs it: each command a subprocess, against a real Temporal dev
 * server, a worker with the real activities and the example backend.
 */
import { execFile } from 'node:child_process';
import { statusQuery, type RolloutStatus } from '../../src/contracts/definitions';
import { freePort } from '../helpers/processes';
import { binaries } from '../helpers/temporal';
import { approvalPlan, rollout, startStack, writePlan, type Stack } from './support';

jest.setTimeout(180_000);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

const cli = (...args: string[]) => rollout(args, stack.cliEnv);

async function waitForState(id: string, state: string, timeoutMs = 30_000): Promise<RolloutStatus> {
  const handle = stack.env.client.workflow.getHandle(id);
  const deadline = Date.now() + timeoutMs;
  let s: RolloutStatus | undefined;
  while (Date.now() < deadline) {
    s = await handle.query(statusQuery);
    if (s.state === state) return s;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${id} never reached ${state}; last ${s?.state}: ${JSON.stringify(s?.events.slice(-5))}`);
}

/** Visibility is eventually consistent: wait until a search-attribute query sees what we expect. */
async function waitForVisibility(query: string, ids: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const seen: string[] = [];
    for await (const wf of stack.env.client.workflow.list({ query })) seen.push(wf.workflowId);
    if (ids.every((id) => seen.includes(id))) return;
    if (Date.now() > deadline)
      throw new Error(`visibility never showed ${ids.join(', ')} for ${query} (saw ${seen.join(', ')})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

test('an invalid plan is refused before anything starts, every problem with its path', async () => {
  const plan = approvalPlan('bad');
  plan.target.baseUrl = 'not a url';
  plan.phases[0].steps[0].percent = 150;
  plan.phases[0].steps[1].observe = 'forever';
  const file = writePlan(stack.dir, 'bad.yaml', plan);
  const r = await cli('start', file);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/is invalid \(4 problems\); nothing was started/);
  expect(r.stderr).toContain('target.baseUrl:');
  expect(r.stderr).toContain('phases[0].steps[0].percent: must be 0..100');
  expect(r.stderr).toContain('phases[0].steps[1].observe:');
  expect(r.stderr).toContain('phases[0].steps[1].percent: must be greater than the step before (150)');
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
});

test('connection refused and an unknown rollout: one line with a hint, non-zero exit', async () => {
  const port = await freePort();
  const [refused, unknown] = await Promise.all([
    rollout(['status', 'rollout-camera-api'], { ...stack.cliEnv, TEMPORAL_ADDRESS: `127.0.0.1:${port}` }),
    cli('status', 'no-such-rollout'),
  ]);
  expect(refused.code).toBe(4);
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
  expect(refused.stderr).toMatch(
    new RegExp(`cannot reach Temporal at 127\\.0\\.0\\.1:${port}: connection refused\\. Hint: .*npm start`),
  );
  expect(unknown.code).toBe(3);
  expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
  expect(unknown.stderr).toMatch(
    /no rollout "no-such-rollout" in namespace default .*Hint: `npx rollout list`/,
  );
});

describe('a rollout waiting for approval', () => {
  const id = 'rollout-cli-a';
  let planFile: string;

  beforeAll(async () => {
    planFile = writePlan(stack.dir, 'a.yaml', approvalPlan('cli-a'));
  });

  test('start: started with the target URL rewritten; a second start of the same target is refused naming the running one', async () => {
    const r = await cli('start', planFile, '--target-url', stack.backend.url, '--time-scale', '60');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^started ${id} \\(run `));
    expect(r.stdout).toContain(`next: npx rollout watch ${id}`);
    await waitForState(id, 'awaiting-approval');
    // Temporal's UI shows what the rollout is from its start.
    const described = await stack.env.client.workflow.getHandle(id).describe();
    expect(await described.staticSummary()).toBe('cli-cli-a: cli-a — read 10→100%');
    expect(await described.staticDetails()).toContain(
      '- reads (group read, approval before start): 10% 1h (1m) → 100% continuous',
    );

    // Same workflow id (FAIL conflict policy), and another id for the same target (search attribute).
    const [again, otherId] = await Promise.all([
      cli('start', planFile),
      cli('start', planFile, '--id', 'rollout-cli-a-2'),
    ]);
    for (const dup of [again, otherId]) {
      expect(dup.code).toBe(1);
      expect(dup.stderr).toMatch(
        new RegExp(`a rollout of target cli-a is already running: ${id} \\(awaiting-approval`),
      );
    }
  });

  test('status --json prints the status query as is', async () => {
    const r = await cli('status', 'cli-a', '--json'); // by target id
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout) as RolloutStatus;
    const direct = await stack.env.client.workflow.getHandle(id).query(statusQuery);
    expect(s).toEqual(direct);
    expect(s).toMatchObject({
      rolloutId: id,
      state: 'awaiting-approval',
      phase: 'reads',
      group: 'read',
      percent: 0,
      timeScale: 60,
      groups: { read: { percent: 0, state: 'pending' } },
      awaiting: { kind: 'approval' },
      rollback: null,
    });
    expect(s.plan.target.baseUrl).toBe(stack.backend.url);
    expect(s.plan.target.traffic).toMatchObject({ type: 'http', url: `${stack.backend.url}/admin/rollout` });
    expect(s.plan.target.metrics).toMatchObject({ url: `${stack.backend.url}/metrics` });
  });

  test("the README's stock commands as copied: `temporal workflow query --type status -o json` is the same JSON", async () => {
    // Asynchronously: the worker runs in this process and must answer meanwhile.
    const temporal = (args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          binaries.ensure('cli'),
          [...args, '--address', stack.env.address, '-o', 'json'],
          (err, stdout, stderr) =>
            resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
      });
    const q = await temporal(['workflow', 'query', '--workflow-id', id, '--type', 'status']);
    expect(q.stderr).toBe('');
    expect(q.status).toBe(0);
    const direct = await stack.env.client.workflow.getHandle(id).query(statusQuery);
    // The same JSON, except that the stock CLI prints an empty list as null.
    const emptyAsNull = JSON.parse(
      JSON.stringify(direct, (_k, v: unknown) => (Array.isArray(v) && v.length === 0 ? null : v)),
    );
    expect((JSON.parse(q.stdout) as { queryResult: unknown[] }).queryResult[0]).toEqual(emptyAsNull);
    // A refused Update answers with the guard's reason and changes nothing.
    const u = await temporal([
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      id,
      '--name',
      'resume',
      '--input',
      '{"by":"alice"}',
    ]);
    expect(u.status).not.toBe(0);
    expect(`${u.stdout}${u.stderr}`).toContain('resume refused: not paused (state awaiting-approval)');
    expect((await stack.env.client.workflow.getHandle(id).query(statusQuery)).state).toBe(
      'awaiting-approval',
    );
  });

  test('refusals: an approver not on the list, a request that makes no sense in the state (Updates: no trace left)', async () => {
    const before = await stack.env.client.workflow.getHandle(id).query(statusQuery);
    const [stranger, complete] = await Promise.all([
      cli('approve', id, '--by', 'mallory', '--comment', 'looks fine'),
      cli('complete', id, '--by', 'alice'),
    ]);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(
      /approve refused: mallory is not an approver \(approvers: alice\) — nothing changed; rollout-cli-a is still awaiting-approval/,
    );
    expect(complete.code).toBe(1);
    expect(complete.stderr).toMatch(/complete refused: .*state awaiting-approval.* — nothing changed/);
    const s = await stack.env.client.workflow.getHandle(id).query(statusQuery);
    expect(s.state).toBe('awaiting-approval');
    // Rejected by the Updates' validators: nothing recorded (a signal's refusal would be).
    expect(s.events).toEqual(before.events);
  });

  test('pause is accepted and shows the state it led to; approve while paused is refused; --by is required', async () => {
    const paused = await cli('pause', id, '--by', 'alice', '--reason', 'change freeze');
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/pause accepted: change freeze \(by alice\)/);
    expect(paused.stdout).toMatch(/state\s+paused/);
    const [approve, noBy] = await Promise.all([cli('approve', id, '--by', 'alice'), cli('resume', id)]);
    expect(approve.code).toBe(1);
    expect(approve.stderr).toMatch(/approve refused: the rollout is paused; resume first/);
    expect(noBy.code).toBe(2);
    expect(noBy.stderr).toMatch(/required option '--by <name>' not specified/);
  });
});

test('rollback by command: the state after it took effect, then history, watch and list --state', async () => {
  const file = writePlan(stack.dir, 'b.json', { plan: approvalPlan('cli-b') });
  const started = await cli('start', file, '--target-url', stack.backend.url);
  expect(started.code).toBe(0);
  await waitForState('rollout-cli-b', 'awaiting-approval');

  const rb = await cli('rollback', 'rollout-cli-b', '--by', 'alice', '--reason', 'severe business impact');
  expect(rb.stderr).toBe('');
  expect(rb.code).toBe(0);
  expect(rb.stdout).toMatch(/rollback accepted: severe business impact \(by alice\)/);
  expect(rb.stdout).toMatch(/state\s+rolled-back/);
  expect(rb.stdout).toMatch(/rollback\s+manual by alice .*severe business impact \(done /);

  await waitForVisibility(`RolloutState = 'rolled-back'`, ['rollout-cli-b']);
  await waitForVisibility(`RolloutState = 'awaiting-approval' OR RolloutState = 'paused'`, ['rollout-cli-a']);
  const [history, watch, rolledBack, paused, badState] = await Promise.all([
    cli('history', 'rollout-cli-b'),
    cli('watch', 'rollout-cli-b', '--exit-status'),
    cli('list', '--state', 'rolled-back', '--json'),
    cli('list', '--state', 'paused'),
    cli('list', '--state', 'sideways'),
  ]);
  expect(history.code).toBe(0);
  expect(history.stdout).toMatch(
    /rollback: manual by alice at .* reverted read, confirmed .*: severe business impact/,
  );

  // The rollout already ended: watch prints the final state and, with --exit-status, says it did not complete.
  expect(watch.code).toBe(1);
  expect(watch.stdout).toMatch(/rollout ended: rolled-back/);

  expect(rolledBack.code).toBe(0);
  const rows = JSON.parse(rolledBack.stdout) as Array<{
    id: string;
    state: string;
    target: string;
    workflowStatus: string;
  }>;
  expect(rows.map((r) => r.id)).toContain('rollout-cli-b');
  expect(rows.map((r) => r.id)).not.toContain('rollout-cli-a');
  expect(rows.find((r) => r.id === 'rollout-cli-b')).toMatchObject({
    state: 'rolled-back',
    target: 'cli-b',
    workflowStatus: 'COMPLETED',
  });

  expect(paused.code).toBe(0);
  expect(paused.stdout).toMatch(/^ROLLOUT\s+STATE\s+PHASE\s+PERCENT\s+TARGET/);
  expect(paused.stdout).toMatch(/rollout-cli-a\s+paused\s+reads\s+0%\s+cli-a\s+running/);
  expect(paused.stdout).not.toContain('rollout-cli-b');

  expect(badState.code).toBe(2);
  expect(badState.stderr).toMatch(/--state: unknown state "sideways" \(one of pending, applying/);
});

test('setup is idempotent; verify runs the checks of the current stage once', async () => {
  const file = writePlan(stack.dir, 'verify.yaml', approvalPlan('cli-v'));
  const [setup, verify] = await Promise.all([
    cli('setup'),
    cli('verify', file, '--target-url', stack.backend.url, '--phase', 'reads', '--no-metrics'),
  ]);
  expect(setup.code).toBe(0);
  expect(setup.stdout).toMatch(/already registered on namespace default/);
  expect(verify.stderr).toBe('');
  expect(verify.code).toBe(0);
  expect(verify.stdout).toMatch(/reads \(group read\) at 0%/);
  expect(verify.stdout).toMatch(/pass\s+functional\s+functional: 1 calls passed/);
  expect(verify.stdout).toMatch(/verdict: PASS/);
});

test('start never moves live traffic backwards by surprise: a group above 0% is refused unless told what to do', async () => {
  const admin = (body: unknown) =>
    fetch(`${stack.backend.url}/admin/rollout`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.cliEnv.ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const plan = approvalPlan('cli-live');
  plan.phases[0].steps = [
    { percent: 10, observe: '1h' },
    { percent: 50, observe: '1h' },
    { percent: 100, observe: 'continuous' },
  ];
  const file = writePlan(stack.dir, 'live.yaml', plan);
  expect((await admin({ useDomainService: true, groups: { read: { percent: 30 } } })).status).toBe(200);
  try {
    const refused = await cli('start', file, '--target-url', stack.backend.url);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /target cli-live already serves domain traffic \(read 30%\): starting would cut read from 30% to 10%\. Nothing was started\. .*--resume-from-current .*--from-zero/,
    );
    const both = await cli('start', file, '--resume-from-current', '--from-zero');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/choose one of --resume-from-current and --from-zero/);
    // Nothing started: no rollout of the target exists.
    expect((await cli('status', 'cli-live')).code).toBe(3);

    const resumed = await cli('start', file, '--target-url', stack.backend.url, '--resume-from-current');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(
      'found read 30%: resuming each phase at its current share (--resume-from-current)',
    );
    const s = await waitForState('rollout-cli-live', 'awaiting-approval');
    expect(s.percent).toBe(30);
    expect(s.stepIndex).toBe(1);
    expect(s.awaiting?.prompt).toBe('approve to start reads at 50%');
    expect(s.events.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        "the target's shares at start: read 30% (resume-from-current)",
        'reads: read was at 30% at start; it resumes at its 50% step (--resume-from-current)',
      ]),
    );
    const rb = await cli('rollback', 'rollout-cli-live', '--by', 'alice');
    expect(rb.code).toBe(0);
  } finally {
    await admin({ useDomainService: true, groups: { read: { percent: 0 } } });
  }
});
