import type { AxiosInstance } from 'axios';
import type { TrafficConfig } from '../../plan/schema';
import { permanent } from '../errors';
import { policyFromEnv, type WorkerPolicy } from '../policy';
import type { Env } from '../settings';
import { OUTPUT_TAIL_BYTES, guarded, plainRunArgv, type RunArgv } from './argv';
import { CommandTrafficProvider } from './command';
import { EnvFileTrafficProvider, type EnvFileOptions } from './env-file';
import { HaproxyTrafficProvider } from './haproxy';
import { HttpTrafficProvider } from './http';
import { NginxTrafficProvider } from './nginx';
import type { TrafficProvider } from './traffic-provider';
import { effectivePercent as percentOf } from '../../contracts/traffic';

export type { TrafficProvider } from './traffic-provider';
export { HttpTrafficProvider, rolloutStateSchema } from './http';
export { EnvFileTrafficProvider, parseEnvFile, updateEnvFile } from './env-file';
export { CommandTrafficProvider } from './command';
export { HaproxyTrafficProvider, parseServersState } from './haproxy';
export { NginxTrafficProvider, parseNginxStatus, renderNginxFile } from './nginx';
export { parseReadOutput } from './argv';

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
  // Commands given as lists run as the policy runs them (checked, minimal environment, redacted).
  const runArgv: RunArgv = guarded(
    policy
      ? (argv, where, o) => policy.runArgv(argv, where, { timeoutMs: o.timeoutMs, tailBytes: OUTPUT_TAIL_BYTES })
      : (options.runArgv ?? plainRunArgv(env)),
  );
  switch (config.type) {
    case 'http':
      return new HttpTrafficProvider(config, env, options.http);
    case 'env-file':
      return new EnvFileTrafficProvider(config, {
        env,
        ...options,
        runArgv,
        ...(policy
          ? {
              runCommand: (command, o) =>
                policy.runCommand(command, 'target.traffic.restartCommand', { timeoutMs: o.timeoutMs }),
            }
          : {}),
      });
    case 'haproxy':
      return new HaproxyTrafficProvider(config);
    case 'nginx':
      return new NginxTrafficProvider(config, { runArgv, http: options.http, onProgress: options.onProgress });
    case 'command':
      return new CommandTrafficProvider(config, { runArgv, onProgress: options.onProgress });
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
