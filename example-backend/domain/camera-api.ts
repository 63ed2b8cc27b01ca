import { SERVICE_NAME, SERVICE_VERSION, type CameraApi } from '../implementation';
import type { DataStore } from '../store';
import { AlertRepository } from './alert-repository';
import { CameraService } from './camera-service';

/** The new ("domain") implementation: services over repositories, the database as the source of reads. */
export function createDomainApi(store: DataStore, startedAt: number): CameraApi {
  const cameras = new CameraService(store);
  const alerts = new AlertRepository(store.db);
  return {
    systemInfo: () => ({
      service: SERVICE_NAME,
      version: SERVICE_VERSION,
      uptime_seconds: Math.floor((Date.now() - startedAt) / 1000),
      cameras: cameras.count(),
    }),
    alertHistory: (limit) => ({ items: alerts.recentEvents(limit), total: alerts.countEvents() }),
    alertRules: () => {
      const items = alerts.rules();
      return { items, total: items.length };
    },
    listCameras: () => cameras.list(),
    createCamera: (input, options) => cameras.create(input, options),
    updateCamera: (id, patch, options) => cameras.update(id, patch, options),
    deleteCamera: (id, options) => cameras.remove(id, options),
  };
}
