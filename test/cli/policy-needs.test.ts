import { policyNeeds } from '../../src/cli/policy-needs';
import { policyFromEnv } from '../../src/providers/policy';
import { planSchema, type Plan } from '../../src/plan/schema';
import { seedPlan } from '../helpers/workflow-harness';

/** The seed plan with another traffic provider (and base URL), as `init` would write it. */
function planWith(target: Record<string, unknown>): Plan {
  const seed = seedPlan() as { target: Record<string, unknown> };
  return planSchema.parse({ ...seed, target: { ...seed.target, ...target } });
}
const DEFAULTS = { PATH: '/usr/bin:/bin' };

test.each([
  [
    'haproxy over a socket outside the clone',
    {
      traffic: {
        type: 'haproxy',
        runtimeApi: 'unix:/run/haproxy/admin.sock',
        groups: {
          read: { backend: 'be_r', legacy: 'l', domain: 'd' },
          write: { backend: 'be_w', legacy: 'l', domain: 'd' },
        },
      },
    },
    {},
    ['ROLLOUT_ALLOW_PATHS=.,/run/haproxy'],
  ],
  [
    'a service on another host, with a token of its own',
    {
      baseUrl: 'http://orders.internal:8100',
      traffic: { type: 'http', url: 'http://orders.internal:8100/admin/rollout', tokenEnv: 'ORDERS_TOKEN' },
    },
    {},
    [
      'ROLLOUT_ALLOW_HOSTS=127.0.0.1,localhost,[::1],orders.internal:8100',
      'ROLLOUT_ALLOW_TOKEN_ENV=ROLLOUT_TOKEN_*,ADMIN_TOKEN,ORDERS_TOKEN',
    ],
  ],
  [
    'command scripts, keeping what the shell allows already',
    {
      traffic: {
        type: 'command',
        set: ['/usr/bin/true', '{group}', '{percent}'],
        read: ['/usr/bin/env', 'echo', '{group}'],
      },
    },
    { ROLLOUT_ALLOW_COMMANDS: '/usr/local/bin' },
    ['ROLLOUT_ALLOW_COMMANDS=/usr/local/bin,/usr/bin'],
  ],
])('%s', (_name, target, env, needs) => {
  const plan = planWith(target);
  const all = { ...DEFAULTS, ...env };
  const refused = policyFromEnv(all, process.cwd()).planNeeds(plan);
  expect(policyNeeds(refused, all).sort()).toEqual([...needs].sort());
  // What it says to set is enough: the same plan is allowed with it.
  const fixed = Object.fromEntries(needs.map((n) => n.split(/=(.*)/s).slice(0, 2)));
  expect(policyFromEnv({ ...all, ...fixed }, process.cwd()).planProblems(plan)).toEqual([]);
});
