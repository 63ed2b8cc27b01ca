import { z } from 'zod';
import { endpointKey } from '../providers/metrics/series';

/**
 * What the camera API's endpoints answer (SPEC §5), as the functional check validates them. The
 * orchestrator keeps its own copy instead of importing the backend's: it checks a deployed
 * service, and must notice when that service drifts from the contract. Objects are not strict:
 * an extra field on both implementations is an extension, and the legacy/domain structure
 * comparison still catches a field only one of them has.
 */

const isoTimestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO timestamp');
const count = z.number().int().nonnegative();

export const cameraSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  location: z.string(),
  rtsp_url: z.string(),
  enabled: z.boolean(),
  tags: z.array(z.string()),
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
});
export type CameraBody = z.infer<typeof cameraSchema>;

export const cameraListSchema = z.object({ items: z.array(cameraSchema), total: count });

export const systemInfoSchema = z.object({
  service: z.string(),
  version: z.string(),
  uptime_seconds: z.number().nonnegative(),
  cameras: count,
});

export const alertHistorySchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      camera_id: z.string(),
      rule_id: z.string(),
      level: z.string(),
      message: z.string(),
      created_at: isoTimestamp,
    }),
  ),
  total: count,
});

export const alertRulesSchema = z.object({
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      enabled: z.boolean(),
      threshold: z.number(),
      level: z.string(),
    }),
  ),
  total: count,
});

/** The error body every endpoint uses for 4xx/5xx. */
export const errorBodySchema = z.object({ error: z.string(), field: z.string().optional() });

const SCHEMAS: Record<string, z.ZodType> = {
  [endpointKey('GET', '/api/v1/system/info')]: systemInfoSchema,
  [endpointKey('GET', '/api/v1/alerts/history-db')]: alertHistorySchema,
  [endpointKey('GET', '/api/v1/alerts/rules')]: alertRulesSchema,
  [endpointKey('GET', '/api/v1/cameras')]: cameraListSchema,
  [endpointKey('POST', '/api/v1/cameras')]: cameraSchema,
  [endpointKey('PUT', '/api/v1/cameras/{camera_id}')]: cameraSchema,
};

/** The schema of a known endpoint's success body; `undefined` for endpoints this file does not know. */
export function responseSchemaFor(method: string, route: string): z.ZodType | undefined {
  return SCHEMAS[endpointKey(method, route)];
}
