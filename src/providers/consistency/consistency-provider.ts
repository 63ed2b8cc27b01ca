import type { ConsistencyReport } from '../../judge/samples';

/** One record as each store holds it; a store without it leaves its side `undefined`. */
export interface RecordPair {
  db?: Record<string, unknown>;
  yaml?: Record<string, unknown>;
}

/** Every record of each store that matched a lookup. */
export interface RecordLists {
  db: Array<Record<string, unknown>>;
  yaml: Array<Record<string, unknown>>;
}

/** Compares the stores a write endpoint must keep in step (the database and the YAML file). */
export interface ConsistencyProvider {
  /** Every record of both stores, field by field. Throws when a store cannot be read. */
  compare(): Promise<ConsistencyReport>;
  /**
   * One record from each store, values normalised alike (booleans, JSON text), so a write probe
   * can check its own write landed in both. Optional: a provider may only offer `compare()`.
   */
  lookup?(id: string): Promise<RecordPair>;
  /** Records of each store whose `field` holds `value`, normalised as `lookup`'s. Optional too. */
  lookupWhere?(field: string, value: unknown): Promise<RecordLists>;
}
