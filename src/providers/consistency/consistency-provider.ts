import type { ConsistencyReport } from '../../workflows/observations';

/** Compares the stores a write endpoint must keep in step (the database and the YAML file). */
export interface ConsistencyProvider {
  compare(): Promise<ConsistencyReport>;
}
