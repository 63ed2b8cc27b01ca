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
