import type Database from 'better-sqlite3';
import type { Camera } from '../schemas';

interface CameraRecord {
  id: string;
  name: string;
  location: string;
  rtsp_url: string;
  enabled: 0 | 1;
  tags: string;
  created_at: string;
  updated_at: string;
}

/**
 * Persistence for cameras in the domain service. It takes the connection per call because the
 * service runs it inside the store's atomic write, on the transaction that write opened.
 */
export class CameraRepository {
  constructor(private readonly db: Database.Database) {}

  findAll(db: Database.Database = this.db): Camera[] {
    return (db.prepare('SELECT * FROM cameras ORDER BY id').all() as CameraRecord[]).map(
      CameraRepository.toEntity,
    );
  }

  count(db: Database.Database = this.db): number {
    return (db.prepare('SELECT COUNT(*) AS n FROM cameras').get() as { n: number }).n;
  }

  findById(id: string, db: Database.Database = this.db): Camera | undefined {
    const record = db.prepare('SELECT * FROM cameras WHERE id = ?').get(id) as CameraRecord | undefined;
    return record && CameraRepository.toEntity(record);
  }

  insert(camera: Camera, db: Database.Database = this.db): void {
    db.prepare(
      `INSERT INTO cameras (id, name, location, rtsp_url, enabled, tags, created_at, updated_at)
       VALUES (@id, @name, @location, @rtsp_url, @enabled, @tags, @created_at, @updated_at)`,
    ).run(CameraRepository.toRecord(camera));
  }

  replace(camera: Camera, db: Database.Database = this.db): void {
    db.prepare(
      `UPDATE cameras SET name = @name, location = @location, rtsp_url = @rtsp_url, enabled = @enabled,
         tags = @tags, created_at = @created_at, updated_at = @updated_at WHERE id = @id`,
    ).run(CameraRepository.toRecord(camera));
  }

  remove(id: string, db: Database.Database = this.db): boolean {
    return db.prepare('DELETE FROM cameras WHERE id = ?').run(id).changes > 0;
  }

  private static toEntity(record: CameraRecord): Camera {
    return {
      id: record.id,
      name: record.name,
      location: record.location,
      rtsp_url: record.rtsp_url,
      enabled: record.enabled === 1,
      tags: JSON.parse(record.tags) as string[],
      created_at: record.created_at,
      updated_at: record.updated_at,
    };
  }

  private static toRecord(camera: Camera): CameraRecord {
    return { ...camera, enabled: camera.enabled ? 1 : 0, tags: JSON.stringify(camera.tags) };
  }
}
