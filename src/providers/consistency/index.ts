import type { ConsistencyConfig } from '../../plan/schema';
import { permanent } from '../errors';
import type { ConsistencyProvider } from './consistency-provider';
import { SqliteYamlConsistencyProvider, type SqliteYamlOptions } from './sqlite-yaml';

export type { ConsistencyProvider, RecordLists, RecordPair } from './consistency-provider';
export { SqliteYamlConsistencyProvider } from './sqlite-yaml';
export { sameValue, formatValue } from './values';

/** The consistency provider a plan's `target.consistency` names. */
export function createConsistencyProvider(
  config: ConsistencyConfig,
  options: SqliteYamlOptions = {},
): ConsistencyProvider {
  switch (config.type) {
    case 'sqlite-yaml':
      return new SqliteYamlConsistencyProvider(config, options);
    default:
      throw permanent(
        `target.consistency.type: unknown provider ${JSON.stringify((config as { type: unknown }).type)}`,
      );
  }
}
