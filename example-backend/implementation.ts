import type { WriteOptions } from './store';
import type {
  AlertHistory,
  AlertRules,
  Camera,
  CameraCreate,
  CameraList,
  CameraUpdate,
  SystemInfo,
} from './schemas';

export const SERVICE_NAME = 'camera-api';
export const SERVICE_VERSION = '2.3.0';

/**
 * What both implementations offer. The HTTP layer validates input and picks one per request; each
 * side has its own code path (legacy: raw SQL and the YAML file, domain: repositories and services)
 * but must answer with the same shapes and the same errors.
 */
export interface CameraApi {
  systemInfo(): SystemInfo;
  alertHistory(limit: number): AlertHistory;
  alertRules(): AlertRules;
  listCameras(): CameraList;
  createCamera(input: CameraCreate, options: WriteOptions): Camera;
  updateCamera(id: string, patch: CameraUpdate, options: WriteOptions): Camera;
  deleteCamera(id: string, options: WriteOptions): void;
}

export const notFound = (id: string): string => `camera ${id} not found`;
export const alreadyExists = (id: string): string => `camera ${id} already exists`;
