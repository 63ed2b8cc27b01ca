/// <reference lib="dom" />
/**
 * The rollout page in a real browser (Debian's chromium driven by playwright-core), against the
 * real dev server, worker process, example backend and traffic: the list, a rollout's page with
 * its plots filling, the buttons acting through Updates (a refused approve, an accepted one, a
 * rollback) and what the page says when something is wrong. The JSON API's answers to bad
 * requests are checked here too, on the same stack.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { PlanInput } from '../../src/plan/schema';
import { startUi, type RunningUi } from '../../src/ui/server';
import { TASK_QUEUE } from '../../src/contracts/definitions';
import type { rolloutWorkflow } from '../../src/workflows';
import { ADMIN_TOKEN, E2E_P95_INCREASE, seedPlan, startBackend, targetAt, waitForStatus, type Backend } from '../e2e/support';
import { freePort, startWorkerProcess, type Child } from '../helpers/processes';
import path from 'node:path';
import { createDevServerEnv } from '../helpers/temporal';
import { chromiumPath } from '../helpers/browser';
import { rollout as cli } from '../cli/cli-process';

jest.setTimeout(240_000);

const TOKEN = 'page-test-token';

let env: TestWorkflowEnvironment;
let worker: Child | undefined;
let backend: Backend | undefined;
let ui: RunningUi | undefined;
let browser: Browser | undefined;

/** Temporal's own Web UI, to see what it shows of a rollout. */
let temporalUiPort: number;

beforeAll(async () => {
  temporalUiPort = await freePort();
  env = await createDevServerEnv(undefined, temporalUiPort);
  worker = startWorkerProcess(env.address, { ADMIN_TOKEN });
  backend = await startBackend();
  backend.startTraffic({ rps: 80, writeRatio: 0 });
  ui = await startUi({
    host: '127.0.0.1',
    port: 0,
    token: TOKEN,
    env: { ...process.env, TEMPORAL_ADDRESS: env.address, TEMPORAL_NAMESPACE: 'default' },
  });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  await worker.waitFor(/rollout worker:/, 180_000);
});

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await backend?.stop();
  await worker?.stop();
  await env?.teardown();
});

/** The seed's read phase behind an approval, 1 s checks, a 60 s window at 10% (never reached). */
function pagePlan(id: string): PlanInput {
  const seed = targetAt(seedPlan(), backend!, id);
  const [read] = seed.phases;
  return {
    ...seed,
    approvers: ['alice', 'bob'],
    defaults: {
      ...seed.defaults,
      checkInterval: '1m',
      baselineWindow: '3m',
      thresholds: { ...seed.defaults?.thresholds, p95Increase: E2E_P95_INCREASE, minSamples: 20 },
    },
    phases: [
      {
        ...read,
        approval: 'before-start',
        steps: [
          { percent: 10, observe: '1h' },
          { percent: 100, observe: 'continuous' },
        ],
      },
    ],
  };
}

async function startRollout(id: string) {
  const handle = await env.client.workflow.start<typeof rolloutWorkflow>('rolloutWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: `rollout-${id}`,
    args: [{ plan: pagePlan(id), timeScale: 60 }],
  });
  await waitForStatus(handle, (s) => s.state === 'awaiting-approval', 'the approval before the reads', 90_000);
  return handle;
}

async function openPage(path: string, token: string | null = TOKEN): Promise<Page> {
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1200 } });
  const query = token ? `?token=${encodeURIComponent(token)}` : '';
  await page.goto(`${ui!.url}/${query}${path}`);
  await page.waitForSelector('body[data-loaded="true"]');
  return page;
}

async function click(page: Page, action: string, who: string, note = ''): Promise<string> {
  await page.fill('#who', who);
  await page.fill('#note', note);
  await page.evaluate(() => {
    document.getElementById('message')!.hidden = true;
  });
  await page.click(`button[data-action="${action}"]`);
  await page.waitForFunction(() => {
    const m = document.getElementById('message')!;
    return !m.hidden && !/sending…/.test(m.textContent ?? '');
  }, undefined, { timeout: 150_000 });
  return (await page.textContent('#message')) ?? '';
}

test('the list, a refused and an accepted approve, plots that fill, and a rollback from the page', async () => {
  const handle = await startRollout('page-a');

  const page = await openPage('#/');
  await page.waitForSelector('tr[data-id="rollout-page-a"]');
  const row = await page.textContent('tr[data-id="rollout-page-a"]');
  expect(row).toContain('awaiting-approval');
  expect(row).toContain('read 0%');

  await page.click('tr[data-id="rollout-page-a"]');
  await page.waitForSelector('#state');
  expect(await page.textContent('#state')).toBe('awaiting-approval');
  expect(await page.textContent('#why')).toMatch(/waiting for approval/);

  // Not one of the plan's approvers: the Update's validator refuses, nothing changes.
  const refused = await click(page, 'approve', 'mallory');
  expect(await page.getAttribute('#message', 'class')).toBe('error');
  expect(refused).toMatch(/approve refused: .*mallory/);
  expect((await handle.query('status')) as { state: string }).toMatchObject({ state: 'awaiting-approval' });

  const accepted = await click(page, 'approve', 'alice', 'reads look fine');
  expect(await page.getAttribute('#message', 'class')).toBe('ok');
  expect(accepted).toMatch(/^approve accepted.*— now /);

  // The plots fill with the checks of the 10% step (1 s apart at this time scale).
  await page.waitForFunction(
    () => Number(document.querySelector('[data-plot="read:error"]')?.getAttribute('data-points') ?? 0) >= 4,
    undefined,
    { timeout: 120_000 },
  );
  for (const kind of ['error', 'p95', 'share'])
    expect(await page.locator(`[data-plot="read:${kind}"] canvas`).count()).toBeGreaterThan(0);
  expect(await page.textContent('#state')).toBe('observing');
  expect(await page.textContent('#percent')).toBe('10%');
  expect(await page.textContent('.step.current')).toContain('10%');
  if (process.env.ROLLOUT_SCREENSHOTS)
    await page.screenshot({ path: path.join(process.env.ROLLOUT_SCREENSHOTS, 'rollout-page.png'), fullPage: true });

  const rolledBack = await click(page, 'rollback', 'bob', 'severe business impact');
  expect(rolledBack).toMatch(/rollback.*— now /);
  await page.waitForFunction(() => document.getElementById('state')?.textContent === 'rolled-back', undefined, {
    timeout: 60_000,
  });
  expect(await page.textContent('#why')).toMatch(/ROLLED BACK \(manual\).*by bob: severe business impact/);
  expect((await backend!.rollout()).groups.read.percent).toBe(0);
  // An ended rollout has nothing to press.
  expect(await page.isDisabled('button[data-action="pause"]')).toBe(true);
  await page.close();

  // `status` names the page of the rollout when one answers.
  const status = await cli(['status', 'rollout-page-a'], { TEMPORAL_ADDRESS: env.address, ROLLOUT_UI_URL: ui!.url });
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`page: ${ui!.url}/#/r/rollout-page-a`);
});

test('without the token the page shows nothing and has nothing to press; typed in, it shows the rollout; an unknown rollout says so', async () => {
  const handle = await startRollout('page-b');
  const page = await openPage('#/r/rollout-page-b', null);
  // A rollout's status carries its plan: without the token it is not read at all.
  await page.waitForSelector('#load-error');
  expect(await page.textContent('#load-error')).toMatch(/reading rollouts needs the page token/);
  expect(await page.isVisible('#token-field')).toBe(true);
  expect(await page.locator('button[data-action="approve"]').count()).toBe(0);
  expect((await handle.query('status')) as { state: string }).toMatchObject({ state: 'awaiting-approval' });

  await page.fill('#token', TOKEN);
  await page.dispatchEvent('#token', 'change');
  await page.waitForSelector('#state');
  expect(await page.textContent('#state')).toBe('awaiting-approval');

  // The token stays with the tab.
  await page.goto(`${ui!.url}/#/r/rollout-nope`);
  await page.waitForSelector('#load-error');
  expect(await page.textContent('#load-error')).toMatch(/no rollout "rollout-nope"/);
  await page.close();
  await handle.terminate('test over');
});

test("Temporal's own Web UI tells the story on the workflow's page: state, what it waits for, the command to run", async () => {
  const handle = await startRollout('page-c');
  const page = await browser!.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(`http://127.0.0.1:${temporalUiPort}/namespaces/default/workflows/rollout-page-c`);
  // The current details are markdown the workflow keeps up to date (src/workflows/rollout/details.ts).
  // Temporal UI 2.x keeps the summary and current details under "User Metadata", the markdown in
  // a sandboxed frame of its own.
  await page.getByText('User Metadata').first().click({ timeout: 90_000 });
  const framesText = async () =>
    (await Promise.all(page.frames().map((f) => f.evaluate(() => document.body?.innerText ?? '').catch(() => '')))).join('\n');
  let text = '';
  for (const deadline = Date.now() + 90_000; !/waiting for approval/.test(text) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 500));
    text = await framesText();
  }
  expect(text).toMatch(/awaiting-approval phase2-read \(group read\) at 0%/);
  expect(text).toContain('waiting for approval: approve to start phase2-read at 10%');
  expect(text).toContain('npx rollout approve rollout-page-c --by alice');
  if (process.env.ROLLOUT_SCREENSHOTS)
    await page.screenshot({ path: path.join(process.env.ROLLOUT_SCREENSHOTS, 'temporal-workflow-page.png'), fullPage: true });
  await page.close();
  await handle.terminate('test over');
});

describe('the API answers a bad request with a 4xx naming what is wrong', () => {
  const post = (path: string, body: string, token: string | null = TOKEN) =>
    fetch(`${ui!.url}/api${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body,
    });

  test.each([
    ['an unknown action', '/rollouts/rollout-x/launch', '{"by":"alice"}', TOKEN, 404, /unknown action "launch"/],
    ['a body that is not JSON', '/rollouts/rollout-x/approve', '{"by":', TOKEN, 400, /body: not valid JSON/],
    ['an unknown field', '/rollouts/rollout-x/approve', '{"by":"alice","force":true}', TOKEN, 400, /body\.force: not a field/],
    ['no name', '/rollouts/rollout-x/pause', '{"reason":"x"}', TOKEN, 400, /body\.by: /],
    ['a wrong token', '/rollouts/rollout-x/approve', '{"by":"alice"}', 'guess', 403, /wrong page token/],
    ['no token', '/rollouts/rollout-x/approve', '{"by":"alice"}', null, 401, /needs the page token/],
    ['an unknown rollout', '/rollouts/rollout-x/approve', '{"by":"alice"}', TOKEN, 404, /no rollout "rollout-x"/],
  ])('%s', async (_what, path, body, token, status, message) => {
    const res = await post(path, body, token);
    expect(res.status).toBe(status);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  test('a request to a rollout that ended is refused (409) with its state', async () => {
    const res = await post('/rollouts/rollout-page-a/pause', '{"by":"alice"}');
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: string }).error).toMatch(/already ended \(rolled-back\)/);
  });

  test('an unknown route and an unknown rollout are 404s', async () => {
    expect((await fetch(`${ui!.url}/api/nothing`)).status).toBe(404);
    const res = await fetch(`${ui!.url}/api/rollouts/rollout-nope`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/no rollout "rollout-nope"/);
  });
});
