import { tmpdir } from 'node:os';

/**
 * The worker's policy (src/providers/policy.ts) for tests whose targets keep their data in
 * temporary directories: those stores and env files are allowed besides the working directory (the
 * default), as ROLLOUT_ALLOW_PATHS would allow them on a real worker. Hosts, tokenEnv and commands
 * keep their defaults.
 */
export const TEST_POLICY_ENV = { ROLLOUT_ALLOW_PATHS: ['.', tmpdir(), '/dev/shm'].join(',') } as const;
