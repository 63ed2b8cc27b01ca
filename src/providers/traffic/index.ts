import type { AxiosInstance } from 'axios';
import type { TrafficConfig } from '../../plan/schema';
import { permanent } from '../errors';
import { policyFromEnv, type WorkerPolicy } from '../policy';
import type { Env } from '../settings';
import { EnvFileTrafficProvider, type EnvFileOptions } from './env-file';
import { HttpTrafficProvider } from './http';
import type { TrafficProvider } from './traffic-provider';
import { effectivePercent as percentOf } from '../../contracts/traffic';

export type { TrafficProvider } from './traffic-provider';
export { HttpTrafficProvider, rolloutStateSchema } from './http';
export { EnvFileTrafficProvider, parseEnvFile, updateEnvFile } from './env-file';

export interface TrafficProviderOptions extends EnvFileOptions {
  http?: AxiosInstance;
  /**
   * The worker's policy: the config is refused (non-retryable) unless it allows every host, the
   * tokenEnv, the file and the command; the restart command runs as the policy runs commands.
   */
  policy?: WorkerPolicy;
}

/** The traffic provider a plan's `target.traffic` names; `env` supplies secrets such as `tokenEnv`. */
export function createTrafficProvider(
  config: TrafficConfig,
  env: Env,
  options: TrafficProviderOptions = {},
): TrafficProvider {
  const { policy } = options;
  policy?.refuse(policy.trafficProblems(config));
  switch (config.type) {
    case 'http':
      return new HttpTrafficProvider(config, env, options.http);
    case 'env-file':
      return new EnvFileTrafficProvider(config, {
        env,
        ...options,
        ...(policy
          ? {
              runCommand: (command, o) =>
                policy.runCommand(command, 'target.traffic.restartCommand', { timeoutMs: o.timeoutMs }),
            }
          : {}),
      });
    default:
      throw permanent(
        `target.traffic.type: unknown provider ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}

/**
 * The domain share of each group as the target's traffic switch reports it (0 when it names none),
 * read as the policy of `env` allows (the CLI's `start` and `verify`).
 */
export async function readShares(
  config: TrafficConfig,
  env: Env,
  groups: string[],
): Promise<Record<string, number>> {
  const state = await createTrafficProvider(config, env, { policy: policyFromEnv(env) }).get(groups);
  return Object.fromEntries(groups.map((g) => [g, percentOf(state, g) ?? 0]));
}
