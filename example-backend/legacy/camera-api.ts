import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '../errors';
import { alreadyExists, notFound, SERVICE_NAME, SERVICE_VERSION, type CameraApi } from '../implementation';
import type { Camera, CameraCreate, CameraUpdate } from '../schemas';
import type { DataStore, WriteOptions } from '../store';
import { legacyAlertHistory, legacyAlertRules } from './alerts';

/**
 * The legacy implementation, kept the way the old monolith did it: reads of cameras come from the
 * YAML file, writes are hand-written SQL, rows are mapped inline.
 */

interface LegacyRow {
  id: string;
  name: string;
  location: string;
  rtsp_url: string;
  enabled: number;
  tags: string;
  created_at: string;
  updated_at: string;
}

function rowToJson(row: LegacyRow): Camera {
  return {
    id: row.id,
    name: row.name,
    location: row.location ?? '',
    rtsp_url: row.rtsp_url,
    enabled: !!row.enabled,
    tags: row.tags ? (JSON.parse(row.tags) as string[]) : [],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function selectCamera(db: Database.Database, id: string): LegacyRow | undefined {
  return db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as LegacyRow | undefined;
}

export function createLegacyApi(store: DataStore, startedAt: number): CameraApi {
  return {
    systemInfo() {
      return {
        service: SERVICE_NAME,
        version: SERVICE_VERSION,
        uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
        cameras: store.camerasFromYaml().length,
      };
    },

    alertHistory: (limit) => legacyAlertHistory(store.db, limit),
    alertRules: () => legacyAlertRules(store.db),

    listCameras() {
      const items = store.camerasFromYaml();
      return { items, total: items.length };
    },

    createCamera(input: CameraCreate, options: WriteOptions) {
      const id = input.id ?? `cam-${randomBytes(4).toString('hex')}`;
      const now = new Date().toISOString();
      return store.write((db) => {
        try {
          db.prepare(
            `INSERT INTO cameras (id, name, location, rtsp_url, enabled, tags, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          ).run(
            id,
            input.name,
            input.location,
            input.rtsp_url,
            input.enabled ? 1 : 0,
            JSON.stringify(input.tags),
            now,
            now,
          );
        } catch (error) {
          if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new ApiError(409, alreadyExists(id), 'id');
          }
          throw error;
        }
        return rowToJson(selectCamera(db, id)!);
      }, options);
    },

    updateCamera(id: string, patch: CameraUpdate, options: WriteOptions) {
      const columns: Array<[string, unknown]> = [];
      if (patch.name !== undefined) columns.push(['name', patch.name]);
      if (patch.location !== undefined) columns.push(['location', patch.location]);
      if (patch.rtsp_url !== undefined) columns.push(['rtsp_url', patch.rtsp_url]);
      if (patch.enabled !== undefined) columns.push(['enabled', patch.enabled ? 1 : 0]);
      if (patch.tags !== undefined) columns.push(['tags', JSON.stringify(patch.tags)]);
      columns.push(['updated_at', new Date().toISOString()]);
      const sets = columns.map(([name]) => `${name} = ?`);
      const args = columns.map(([, value]) => value);
      return store.write((db) => {
        const info = db.prepare(`UPDATE cameras SET ${sets.join(', ')} WHERE id = ?`).run(...args, id);
        if (info.changes === 0) throw new ApiError(404, notFound(id));
        return rowToJson(selectCamera(db, id)!);
      }, options);
    },

    deleteCamera(id: string, options: WriteOptions) {
      store.write((db) => {
        const info = db.prepare('DELETE FROM cameras WHERE id = ?').run(id);
        if (info.changes === 0) throw new ApiError(404, notFound(id));
      }, options);
    },
  };
}
