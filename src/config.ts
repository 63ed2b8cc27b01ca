import { z } from 'zod';
import { TASK_QUEUE } from './workflows/definitions';

/** Connection settings from the environment (SPEC §3); TLS and API key follow the SDK's variables. */
const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  ROLLOUT_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
});

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: boolean | { clientCertPair: { crt: Buffer; key: Buffer } };
}

export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const e = parsed.data;
  let tls: TemporalSettings['tls'];
  if (e.TEMPORAL_TLS_CERT && e.TEMPORAL_TLS_KEY) {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    tls = { clientCertPair: { crt: readFileSync(e.TEMPORAL_TLS_CERT), key: readFileSync(e.TEMPORAL_TLS_KEY) } };
  } else if (e.TEMPORAL_API_KEY || e.TEMPORAL_TLS === 'true' || e.TEMPORAL_TLS === '1') tls = true;
  return { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, taskQueue: e.ROLLOUT_TASK_QUEUE, apiKey: e.TEMPORAL_API_KEY, tls };
}
