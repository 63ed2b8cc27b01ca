import { randomUUID } from 'node:crypto';
import { ApiError } from '../errors';
import { alreadyExists, notFound } from '../implementation';
import type { Camera, CameraCreate, CameraUpdate } from '../schemas';
import type { DataStore, WriteOptions } from '../store';
import { CameraRepository } from './camera-repository';

/** Camera use cases of the domain service; every change runs inside the store's atomic write. */
export class CameraService {
  private readonly cameras: CameraRepository;

  constructor(private readonly store: DataStore) {
    this.cameras = new CameraRepository(store.db);
  }

  list(): { items: Camera[]; total: number } {
    const items = this.cameras.findAll();
    return { items, total: items.length };
  }

  count(): number {
    return this.cameras.count();
  }

  create(input: CameraCreate, options: WriteOptions): Camera {
    const now = new Date().toISOString();
    const camera: Camera = {
      id: input.id ?? `cam-${randomUUID().slice(0, 8)}`,
      name: input.name,
      location: input.location,
      rtsp_url: input.rtsp_url,
      enabled: input.enabled,
      tags: input.tags,
      created_at: now,
      updated_at: now,
    };
    return this.store.write((db) => {
      if (this.cameras.findById(camera.id, db)) throw new ApiError(409, alreadyExists(camera.id), 'id');
      this.cameras.insert(camera, db);
      return camera;
    }, options);
  }

  update(id: string, patch: CameraUpdate, options: WriteOptions): Camera {
    return this.store.write((db) => {
      const current = this.cameras.findById(id, db);
      if (!current) throw new ApiError(404, notFound(id));
      const next: Camera = {
        ...current,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
        updated_at: new Date().toISOString(),
      };
      this.cameras.replace(next, db);
      return next;
    }, options);
  }

  remove(id: string, options: WriteOptions): void {
    this.store.write((db) => {
      if (!this.cameras.remove(id, db)) throw new ApiError(404, notFound(id));
    }, options);
  }
}
