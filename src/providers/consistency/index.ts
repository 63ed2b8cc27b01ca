import type { ConsistencyConfig } from '../../plan/schema';
import { permanent } from '../errors';
import type { WorkerPolicy } from '../policy';
import type { ConsistencyProvider } from './consistency-provider';
import { SqliteYamlConsistencyProvider, type SqliteYamlOptions } from './sqlite-yaml';

export type { ConsistencyProvider, RecordLists, RecordPair } from './consistency-provider';
export { SqliteYamlConsistencyProvider } from './sqlite-yaml';
export { sameValue, formatValue } from './values';

/** The consistency provider a plan's `target.consistency` names. */
export function createConsistencyProvider(
  config: ConsistencyConfig,
  options: SqliteYamlOptions & { policy?: WorkerPolicy } = {},
): ConsistencyProvider {
  // The worker's policy, when given: stores outside the paths it allows are refused.
  options.policy?.refuse(options.policy.consistencyProblems(config));
  switch (config.type) {
    case 'sqlite-yaml':
      return new SqliteYamlConsistencyProvider(config, options);
    default:
      throw permanent(
        `target.consistency.type: unknown provider ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}
