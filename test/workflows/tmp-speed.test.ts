import { Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { statusQuery, TASK_QUEUE } from '../../src/workflows/definitions';
import { FakeTarget } from '../helpers/fake-target';
import { createTimeSkippingEnv, workflowBundle } from '../helpers/temporal';
jest.setTimeout(600_000);
test('speed', async () => {
  const env = await createTimeSkippingEnv();
  const seedPlan = parse(readFileSync(path.resolve(__dirname, '../../plans/phase2-3.yaml'), 'utf8'));
  const target = new FakeTarget();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, workflowBundle: await workflowBundle(), activities: target.activities() });
  await worker.runUntil(async () => {
    const h = await env.client.workflow.start('rolloutWorkflow', { taskQueue: TASK_QUEUE, workflowId: 'x', args: [{ plan: seedPlan }] });
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      await env.sleep('1h');
      const s = await h.query(statusQuery);
      console.log(`run=${(await h.describe()).runId.slice(0,8)} hist=${(await h.describe()).historyLength} sleep 1h took ${Date.now() - t}ms, checks=${target.sampleCalls} state=${s.state} pct=${s.percent}`);
    }
    await h.terminate();
  });
  await env.teardown();
});
