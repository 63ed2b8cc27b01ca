import type { AxiosInstance } from 'axios';
import type { TrafficConfig } from '../../plan/schema';
import { permanent } from '../errors';
import type { Env } from '../settings';
import { EnvFileTrafficProvider, type EnvFileOptions } from './env-file';
import { HttpTrafficProvider } from './http';
import type { TrafficProvider } from './traffic-provider';

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
