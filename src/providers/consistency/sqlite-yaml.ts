import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import Database from 'better-sqlite3';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { ConsistencyConfig } from '../../plan/schema';
import type { ConsistencyReport } from '../../judge/samples';
import { describeIssues, messageOf, sleep } from '../errors';
import type { ConsistencyProvider, RecordLists, RecordPair } from './consistency-provider';
import { formatValue, normalizeRow, sameValue } from './values';

export type SqliteYamlConsistencyConfig = Extract<ConsistencyConfig, { type: 'sqlite-yaml' }>;

export interface SqliteYamlOptions {
  /** Table in the database and list in the YAML document holding the records (overrides the plan's). */
  collection?: string;
  /** Pause before the second read that confirms a mismatch. */
  recheckDelayMs?: number;
}

type Records = Map<string, Record<string, unknown>>;

interface Snapshot {
  db: Records;
  yaml: Records;
  /** Records that changed in either store while the snapshot was read: a write in progress. */
  unsettled: Set<string>;
  /** Problems that are not about one field, e.g. a duplicate id. Keyed like differences. */
  problems: Map<string, string>;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The YAML version a file without a `%YAML` directive is read in: the one the example backend
 * writes (and declares). Reading in another version turns a stored string such as `0o17` into 15
 * on one side only, and the check would page about a record's name.
 */
export const YAML_VERSION = '1.2';

/**
 * Compares a table of a SQLite database with the list of the same name in a YAML file, both ways
 * and field by field, records paired by their key column. The collection is the plan's, or the
 * YAML file's name (`./data/orders.yaml` holds `orders:`). The database is opened read-only for each check and closed again, so
 * the checker never holds a lock on the target's data.
 */
export class SqliteYamlConsistencyProvider implements ConsistencyProvider {
  private readonly collection: string;
  private readonly key: string;
  private readonly recheckDelayMs: number;

  constructor(
    private readonly config: SqliteYamlConsistencyConfig,
    options: SqliteYamlOptions = {},
  ) {
    this.collection =
      options.collection ?? config.collection ?? path.basename(config.yaml).replace(/\.ya?ml$/i, '');
    if (!IDENT.test(this.collection))
      throw new Error(
        `collection ${JSON.stringify(this.collection)} is not a table name (name it in target.consistency.collection)`,
      );
    this.key = config.key ?? 'id';
    if (!IDENT.test(this.key)) throw new Error(`key ${JSON.stringify(this.key)} is not a column name`);
    this.recheckDelayMs = options.recheckDelayMs ?? 500;
  }

  /**
   * A write changes the two stores a moment apart, and the checker cannot lock the target's
   * stores, so it guards against reading in between twice over: each snapshot reads both stores
   * twice and leaves out records that changed meanwhile, and a difference counts only when a
   * second snapshot after a short pause shows the very same difference (same field, same values).
   * A real desync stays put; a write in progress does not repeat itself value for value.
   */
  async compare(): Promise<ConsistencyReport> {
    const first = this.differences(await this.snapshot());
    if (first.size === 0) return { ok: true, checked: first.checked, differences: [] };
    await sleep(this.recheckDelayMs);
    const second = this.differences(await this.snapshot());
    const lasting = [...second.entries()]
      .filter(([key, text]) => first.get(key) === text)
      .map(([, text]) => text);
    return { ok: lasting.length === 0, checked: second.checked, differences: lasting };
  }

  /** One read of each store: the write probe asks after its own record, which nobody else writes. */
  async lookup(id: string): Promise<RecordPair> {
    const { db, yaml } = await this.readBoth();
    return { db: db.get(id), yaml: yaml.get(id) };
  }

  /** Every record of each store whose `field` holds `value` (a probe's record before it has an id). */
  async lookupWhere(field: string, value: unknown): Promise<RecordLists> {
    const { db, yaml } = await this.readBoth();
    const holds = (r: Record<string, unknown>) => sameValue(r[field], value);
    return { db: [...db.values()].filter(holds), yaml: [...yaml.values()].filter(holds) };
  }

  private async readBoth(): Promise<{ db: Records; yaml: Records }> {
    const yaml = await this.readYaml(new Map());
    const db = this.openDb();
    try {
      return { db: this.readRows(db), yaml };
    } finally {
      db.close();
    }
  }

  /** Differences of the settled records, keyed by `id` and field. */
  private differences(snap: Snapshot): Map<string, string> & { checked: number } {
    const out = new Map(snap.problems) as Map<string, string> & { checked: number };
    const ids = [...new Set([...snap.db.keys(), ...snap.yaml.keys()])]
      .filter((id) => !snap.unsettled.has(id))
      .sort();
    out.checked = ids.length;
    const noun = this.collection.replace(/s$/, '');
    for (const id of ids) {
      const db = snap.db.get(id);
      const yaml = snap.yaml.get(id);
      if (!db) {
        out.set(`${id}\u0000`, `${noun} ${id}: missing in database (present in yaml)`);
        continue;
      }
      if (!yaml) {
        out.set(`${id}\u0000`, `${noun} ${id}: missing in yaml (present in database)`);
        continue;
      }
      const fields = [...new Set([...Object.keys(db), ...Object.keys(yaml)])].sort();
      for (const f of fields) {
        if (!sameValue(db[f], yaml[f])) {
          out.set(
            `${id}\u0000${f}`,
            `${noun} ${id}: ${f} db=${formatValue(db[f])} yaml=${formatValue(yaml[f])}`,
          );
        }
      }
    }
    return out;
  }

  /**
   * Reads yaml, database, yaml, database. A record that differs between its two reads in either
   * store is unsettled. A write in flight that leaves both reads of each store alike would have to
   * hold one store changed and the other not for the whole snapshot.
   */
  private async snapshot(): Promise<Snapshot> {
    const problems = new Map<string, string>();
    const yamlBefore = await this.readYaml(new Map());
    const db = this.openDb();
    let dbBefore: Records;
    let yamlAfter: Records;
    let dbAfter: Records;
    try {
      dbBefore = this.readRows(db);
      yamlAfter = await this.readYaml(problems);
      dbAfter = this.readRows(db);
    } finally {
      db.close();
    }
    const unsettled = new Set<string>();
    for (const [before, after] of [
      [dbBefore, dbAfter],
      [yamlBefore, yamlAfter],
    ]) {
      for (const id of new Set([...before.keys(), ...after.keys()]))
        if (!isDeepStrictEqual(before.get(id), after.get(id))) unsettled.add(id);
    }
    return { db: dbAfter, yaml: yamlAfter, unsettled, problems };
  }

  /** Opens the database read-only and makes sure the table is there; the caller closes it. */
  private openDb(): Database.Database {
    let db: Database.Database;
    try {
      db = new Database(this.config.database, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (err) {
      throw new Error(`database ${this.config.database}: cannot open: ${messageOf(err)}`);
    }
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
      .get(this.collection) as { name: string } | undefined;
    if (!table) {
      const tables = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
      ).map((t) => t.name);
      db.close();
      throw new Error(
        `database ${this.config.database}: no table ${this.collection} (tables: ${tables.join(', ') || 'none'})`,
      );
    }
    return db;
  }

  private readRows(db: Database.Database): Records {
    const rows = db.prepare(`SELECT * FROM "${this.collection}"`).all() as Array<Record<string, unknown>>;
    const out: Records = new Map();
    for (const row of rows) {
      const id = row[this.key];
      if (id === undefined || id === null)
        throw new Error(
          `database ${this.config.database}: table ${this.collection} has no ${this.key} column`,
        );
      out.set(String(id), normalizeRow(row));
    }
    return out;
  }

  private async readYaml(problems: Map<string, string>): Promise<Records> {
    let text: string;
    try {
      text = await readFile(this.config.yaml, 'utf8');
    } catch (err) {
      throw new Error(`yaml ${this.config.yaml}: cannot read: ${messageOf(err)}`);
    }
    let doc: unknown;
    try {
      doc = parseYaml(text, { version: YAML_VERSION });
    } catch (err) {
      throw new Error(`yaml ${this.config.yaml}: not valid YAML: ${messageOf(err)}`);
    }
    const schema = z.object({
      [this.collection]: z
        .array(z.looseObject({ [this.key]: z.union([z.string(), z.number()]) }))
        .nullable()
        .optional(),
    });
    // An empty document or `<collection>: null` is an empty list, as the example backend reads it.
    const parsed = schema.safeParse(doc ?? {});
    if (!parsed.success)
      throw new Error(`yaml ${this.config.yaml}: unexpected content: ${describeIssues(parsed.error)}`);
    const list = (parsed.data[this.collection] ?? []) as Array<Record<string, unknown>>;
    const out: Records = new Map();
    const noun = this.collection.replace(/s$/, '');
    for (const item of list) {
      const id = String(item[this.key]);
      if (out.has(id)) problems.set(`${id}\u0000(duplicate)`, `${noun} ${id}: listed more than once in yaml`);
      out.set(id, item);
    }
    return out;
  }
}
