import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { z } from 'zod';
import { InjectedFailure } from './errors';
import { Camera } from './schemas';
import { SEED_CAMERAS, SEED_RULES, seedAlerts } from './seed';

/**
 * Cameras live in two places, as in the seed system: the SQLite table `cameras` and the file
 * `cameras.yaml`. Every write changes both or neither; the orchestrator's consistency check compares them.
 *
 * SQLite schema (read by the sqlite-yaml consistency provider):
 *   cameras(id TEXT PK, name TEXT, location TEXT, rtsp_url TEXT, enabled INTEGER 0|1,
 *           tags TEXT -- JSON array of strings, created_at TEXT ISO, updated_at TEXT ISO)
 *   alert_rules(id, name, enabled, threshold, level)    alert_history(id, camera_id, rule_id, level, message, created_at)
 */

export const DB_FILE = 'cameras.db';
export const YAML_FILE = 'cameras.yaml';

export interface CameraRow {
  id: string;
  name: string;
  location: string;
  rtsp_url: string;
  enabled: number;
  tags: string;
  created_at: string;
  updated_at: string;
}

export interface WriteOptions {
  /** A probe asked this store to fail part-way (atomicity tests). */
  injectFailure?: 'yaml' | 'db';
  /** The `yamlDesync` fault: change the database only, the bug a consistency check must catch. */
  skipYaml?: boolean;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS cameras (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  location TEXT NOT NULL DEFAULT '',
  rtsp_url TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  tags TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_rules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  threshold REAL NOT NULL,
  level TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_history (
  id TEXT PRIMARY KEY,
  camera_id TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  level TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_history_created ON alert_history (created_at DESC);
`;

const YamlDocument = z.object({ cameras: z.array(Camera).nullable().default([]) });

/** The canonical row → camera mapping, used for the YAML copy. */
function toCamera(row: CameraRow): Camera {
  return {
    id: row.id,
    name: row.name,
    location: row.location,
    rtsp_url: row.rtsp_url,
    enabled: row.enabled === 1,
    tags: JSON.parse(row.tags) as string[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/**
 * The one YAML version the file is written and read in. The file declares it (`%YAML 1.2`), so a
 * reader that honours directives cannot guess another; the consistency provider reads it so too.
 */
export const YAML_VERSION = '1.2';

/**
 * Characters a YAML 1.2 reader takes literally inside double quotes but that are not "printable"
 * (DEL, C1 controls, noncharacters) or that a YAML 1.1 reader would take as a line break (NEL,
 * U+2028, U+2029): written as escapes so every reader gets the same string back.
 */
const UNSAFE_IN_QUOTES = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;

/**
 * Every string double-quoted: a plain `0o17`, `yes` or `~` means 15, true or null to some YAML
 * reader (1.1 or 1.2), while `"0o17"` is the string to all of them. Keys are fixed ASCII names.
 */
export function renderCamerasYaml(cameras: Camera[]): string {
  const sorted = [...cameras].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const doc = new YAML.Document({ cameras: sorted }, { version: YAML_VERSION });
  doc.directives!.yaml.explicit = true;
  const text = doc.toString({ defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
  // Safe on the whole text: with every string quoted, these can only occur inside quotes.
  return text.replace(UNSAFE_IN_QUOTES, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How the backend reads its file back (the legacy implementation's reads). */
export function parseCamerasYaml(text: string): Camera[] {
  const doc = YamlDocument.parse(YAML.parse(text, { version: YAML_VERSION }) ?? {});
  return doc.cameras ?? [];
}

/**
 * Replaces `target` through a temp file in the same directory and `rename`: a reader sees the old
 * file or the new one, never half of one, even if the process dies part-way.
 */
function replaceFileAtomically(target: string, content: string, failMidway = false): void {
  const dir = path.dirname(target);
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  let fd: number | undefined = fs.openSync(tmp, 'wx', 0o644);
  try {
    if (failMidway) {
      fs.writeSync(fd, content.slice(0, Math.floor(content.length / 2)));
      throw new InjectedFailure('yaml');
    }
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

export class DataStore {
  readonly dbPath: string;
  readonly yamlPath: string;
  readonly db: Database.Database;
  private writing = false;
  private yamlCache: { key: string; cameras: Camera[] } | undefined;

  private constructor(
    readonly dataDir: string,
    private readonly log: (line: string) => void,
  ) {
    this.dbPath = path.join(dataDir, DB_FILE);
    this.yamlPath = path.join(dataDir, YAML_FILE);
    fs.mkdirSync(dataDir, { recursive: true });
    this.db = new Database(this.dbPath);
    // WAL lets the consistency checker read from another process while writes go on.
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    // Rules only ever come from the seed, so an empty table means a new database (or a first start
    // that died before its seed transaction committed); cameras may legitimately be all deleted.
    const fresh = (this.db.prepare('SELECT COUNT(*) AS n FROM alert_rules').get() as { n: number }).n === 0;
    if (fresh) this.seed();
    else if (!fs.existsSync(this.yamlPath)) {
      this.log(`${this.yamlPath} is missing; writing it from ${this.dbPath}`);
      replaceFileAtomically(this.yamlPath, renderCamerasYaml(this.camerasFromDb()));
    }
  }

  static open(dataDir: string, log: (line: string) => void = (line) => console.warn(line)): DataStore {
    return new DataStore(path.resolve(dataDir), log);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  camerasFromDb(): Camera[] {
    return (this.db.prepare('SELECT * FROM cameras ORDER BY id').all() as CameraRow[]).map(toCamera);
  }

  /**
   * The YAML copy as the legacy code reads it. Parsing it costs ~8 ms of CPU per request with a few
   * dozen cameras (most of a legacy read, and enough to saturate the backend at ~100 req/s on a small
   * machine), so the parse is kept until the file changes: every write replaces it (new inode), and
   * an edit in place changes its size or times.
   */
  camerasFromYaml(): Camera[] {
    const stat = fs.statSync(this.yamlPath, { bigint: true });
    const key = `${stat.ino}:${stat.size}:${stat.mtimeNs}:${stat.ctimeNs}`;
    if (this.yamlCache?.key !== key) {
      this.yamlCache = { key, cameras: parseCamerasYaml(fs.readFileSync(this.yamlPath, 'utf8')) };
    }
    return structuredClone(this.yamlCache.cameras);
  }

  /**
   * Runs `apply` on the database and rewrites the YAML, as one unit: transaction open → apply →
   * YAML replaced → commit. A YAML failure rolls the database back; a commit failure puts the
   * previous YAML back. The whole section is synchronous (better-sqlite3 and fs *Sync), so the
   * event loop cannot interleave two writes and the stores cannot drift under concurrency.
   */
  write<T>(apply: (db: Database.Database) => T, options: WriteOptions = {}): T {
    if (this.writing) throw new Error('nested DataStore.write');
    this.writing = true;
    try {
      const previousYaml = fs.existsSync(this.yamlPath) ? fs.readFileSync(this.yamlPath) : undefined;
      this.db.exec('BEGIN IMMEDIATE');
      let result: T;
      try {
        result = apply(this.db);
        if (!options.skipYaml) {
          replaceFileAtomically(
            this.yamlPath,
            renderCamerasYaml(this.camerasFromDb()),
            options.injectFailure === 'yaml',
          );
        }
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
      try {
        // Stands in for a failing COMMIT (disk full, I/O error): the YAML is already replaced by now.
        if (options.injectFailure === 'db') throw new InjectedFailure('db');
        this.db.exec('COMMIT');
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        if (!options.skipYaml) this.restoreYaml(previousYaml);
        throw error;
      }
      return result;
    } finally {
      this.writing = false;
    }
  }

  private restoreYaml(previous: Buffer | undefined): void {
    try {
      if (previous === undefined) fs.rmSync(this.yamlPath, { force: true });
      else replaceFileAtomically(this.yamlPath, previous.toString('utf8'));
    } catch (error) {
      this.log(`could not restore ${this.yamlPath} after a failed commit: ${String(error)}`);
    }
  }

  private seed(): void {
    const now = new Date();
    const at = now.toISOString();
    const insertCamera = this.db.prepare(
      `INSERT INTO cameras (id, name, location, rtsp_url, enabled, tags, created_at, updated_at)
       VALUES (@id, @name, @location, @rtsp_url, @enabled, @tags, @at, @at)`,
    );
    const insertRule = this.db.prepare(
      'INSERT INTO alert_rules (id, name, enabled, threshold, level) VALUES (@id, @name, @enabled, @threshold, @level)',
    );
    const insertAlert = this.db.prepare(
      `INSERT INTO alert_history (id, camera_id, rule_id, level, message, created_at)
       VALUES (@id, @camera_id, @rule_id, @level, @message, @created_at)`,
    );
    this.write(() => {
      for (const c of SEED_CAMERAS)
        insertCamera.run({ ...c, enabled: c.enabled ? 1 : 0, tags: JSON.stringify(c.tags), at });
      for (const r of SEED_RULES) insertRule.run({ ...r, enabled: r.enabled ? 1 : 0 });
      for (const a of seedAlerts(now)) insertAlert.run(a);
    });
  }
}
