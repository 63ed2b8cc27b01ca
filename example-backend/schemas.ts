import { z } from 'zod';
import { must } from './errors';

/**
 * Every shape that crosses the API boundary. Both implementations answer with these exact shapes:
 * the orchestrator's probes validate them and compare legacy with domain.
 */

export const IMPLS = ['legacy', 'domain'] as const;
export type Impl = (typeof IMPLS)[number];

export const GROUPS = ['read', 'write'] as const;
export type Group = (typeof GROUPS)[number];

export const ALERT_LEVELS = ['info', 'warning', 'critical'] as const;
export const AlertLevel = z.enum(ALERT_LEVELS);
export type AlertLevel = z.infer<typeof AlertLevel>;

const isoTimestamp = z
  .string()
  .refine((s) => !Number.isNaN(Date.parse(s)), { error: 'must be an ISO timestamp' });

export const Camera = z.strictObject({
  id: z.string(),
  name: z.string(),
  location: z.string(),
  rtsp_url: z.string(),
  enabled: z.boolean(),
  tags: z.array(z.string()),
  created_at: isoTimestamp,
  updated_at: isoTimestamp,
});
export type Camera = z.infer<typeof Camera>;

export const CameraList = z.strictObject({ items: z.array(Camera), total: z.number().int().nonnegative() });
export type CameraList = z.infer<typeof CameraList>;

export const SystemInfo = z.strictObject({
  service: z.string(),
  version: z.string(),
  uptime_seconds: z.number().nonnegative(),
  cameras: z.number().int().nonnegative(),
});
export type SystemInfo = z.infer<typeof SystemInfo>;

export const AlertEvent = z.strictObject({
  id: z.string(),
  camera_id: z.string(),
  rule_id: z.string(),
  level: AlertLevel,
  message: z.string(),
  created_at: isoTimestamp,
});
export type AlertEvent = z.infer<typeof AlertEvent>;

export const AlertHistory = z.strictObject({
  items: z.array(AlertEvent),
  total: z.number().int().nonnegative(),
});
export type AlertHistory = z.infer<typeof AlertHistory>;

export const AlertRule = z.strictObject({
  id: z.string(),
  name: z.string(),
  enabled: z.boolean(),
  threshold: z.number(),
  level: AlertLevel,
});
export type AlertRule = z.infer<typeof AlertRule>;

export const AlertRules = z.strictObject({
  items: z.array(AlertRule),
  total: z.number().int().nonnegative(),
});
export type AlertRules = z.infer<typeof AlertRules>;

export const ErrorBody = z.strictObject({ error: z.string(), field: z.string().optional() });

// ---- request bodies -------------------------------------------------------------------------

/**
 * Text a user stores. A lone UTF-16 surrogate is not text: SQLite and the YAML file would each
 * store a replacement character, and the answer would differ from what was stored.
 */
const text = () =>
  z
    .string({ error: must('must be a string') })
    .refine((s) => !LONE_SURROGATE.test(s), { error: 'must be valid Unicode text (no lone surrogates)' });
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A camera id, in a body or in the path (`{camera_id}`). */
export const CameraId = z
  .string({ error: must('must be a string') })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' });
const cameraId = CameraId;
const cameraName = text()
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(200, { error: 'must be at most 200 characters' });
const location = text().max(200, { error: 'must be at most 200 characters' });
const rtspUrl = z
  .string({ error: must('must be a string') })
  .regex(/^rtsps?:\/\/\S+$/, { error: 'must be an rtsp:// or rtsps:// URL' })
  .max(2048, { error: 'must be at most 2048 characters' });
const enabled = z.boolean({ error: must('must be true or false') });
const tags = z
  .array(text().min(1, { error: 'must not be empty' }).max(64, { error: 'must be at most 64 characters' }), {
    error: 'must be an array of strings',
  })
  .max(32, { error: 'must have at most 32 tags' });

export const CameraCreate = z.strictObject(
  {
    id: cameraId.optional(),
    name: cameraName,
    location: location.default(''),
    rtsp_url: rtspUrl,
    enabled: enabled.default(true),
    tags: tags.default([]),
  },
  { error: 'must be a JSON object' },
);
export type CameraCreate = z.infer<typeof CameraCreate>;

export const CameraUpdate = z
  .strictObject(
    {
      name: cameraName.optional(),
      location: location.optional(),
      rtsp_url: rtspUrl.optional(),
      enabled: enabled.optional(),
      tags: tags.optional(),
    },
    { error: 'must be a JSON object' },
  )
  .refine((patch) => Object.values(patch).some((v) => v !== undefined), {
    error: 'must change at least one of name, location, rtsp_url, enabled, tags',
  });
export type CameraUpdate = z.infer<typeof CameraUpdate>;

export const HistoryQuery = z.strictObject({
  limit: z.coerce
    .number({ error: must('must be an integer 1..1000') })
    .int({ error: 'must be an integer 1..1000' })
    .min(1, { error: 'must be an integer 1..1000' })
    .max(1000, { error: 'must be an integer 1..1000' })
    .default(50),
});
