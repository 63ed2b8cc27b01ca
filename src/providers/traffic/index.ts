import type { AxiosInstance } from 'axios';
import type { TrafficConfig } from '../../plan/schema';
import { permanent } from '../errors';
import type { Env } from '../settings';
import { EnvFileTrafficProvider, type EnvFileOptions } from './env-file';
import { HttpTrafficProvider } from './http';
import { effectivePercent as percentOf, type TrafficProvider } from './traffic-provider';

export type { TrafficProvider } from './traffic-provider';
export { effectivePercent } from './traffic-provider';
export { HttpTrafficProvider, rolloutStateSchema } from './http';
export { EnvFileTrafficProvider, parseEnvFile, updateEnvFile } from './env-file';

export interface TrafficProviderOptions extends EnvFileOptions {
  http?: AxiosInstance;
}

/** The traffic provider a plan's `target.traffic` names; `env` supplies secrets such as `tokenEnv`. */
export function createTrafficProvider(
  config: TrafficConfig,
  env: Env,
  options: TrafficProviderOptions = {},
): TrafficProvider {
  switch (config.type) {
    case 'http':
      return new HttpTrafficProvider(config, env, options.http);
    case 'env-file':
      return new EnvFileTrafficProvider(config, { env, ...options });
    default:
      throw permanent(
        `target.traffic.type: unknown provider ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}

/** The domain share of each group as the target's traffic switch reports it (0 when it names none). */
export async function readShares(
  config: TrafficConfig,
  env: Env,
  groups: string[],
): Promise<Record<string, number>> {
  const state = await createTrafficProvider(config, env).get(groups);
  return Object.fromEntries(groups.map((g) => [g, percentOf(state, g) ?? 0]));
}
