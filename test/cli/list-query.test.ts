import { listQuery } from '../../src/client/rollout-list';

// The query runs against the dev server's visibility store in cli.test.ts (list --state …).
test.each([
  [{}, `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus != 'ContinuedAsNew'`],
  [{ state: 'paused' as const }, `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND RolloutState = 'paused'`],
  [
    { target: "it's", running: true },
    `WorkflowType = 'rolloutWorkflow' AND ExecutionStatus != 'ContinuedAsNew' AND RolloutTarget = 'it\\'s' AND ExecutionStatus = 'Running'`,
  ],
])('list %j: one row per rollout, never a run it continued from', (options, query) => {
  expect(listQuery(options)).toBe(query);
});
