import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';
import { z } from 'zod';
import { TASK_QUEUE } from './workflows/definitions';

/** Our own variables; the connection itself follows the SDK's environment configuration. */
const envSchema = z.object({
  ROLLOUT_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
});

/** Where and how to reach Temporal, and the task queue of the rollout worker. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls?: ConnectionOptions['tls'];
  metadata?: ConnectionOptions['metadata'];
}

const DEFAULT_ADDRESS = '127.0.0.1:7233';
const DEFAULT_NAMESPACE = 'default';

/**
 * Reads the connection the way the SDKs and the `temporal` CLI do (SPEC §3): `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` (e.g. `TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * `TEMPORAL_TLS_CLIENT_KEY_PATH`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`), `TEMPORAL_PROFILE` and the
 * TOML file of `TEMPORAL_CONFIG_FILE` (default `~/.config/temporalio/temporal.toml`), variables
 * winning over the file. So one worker runs against a dev server, a self-hosted cluster or
 * Temporal Cloud with nothing but the environment changed.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${problems}`);
  }
  const vars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined),
  );
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ overrideEnvVars: vars });
  } catch (err) {
    throw new Error(
      `invalid Temporal client configuration (TEMPORAL_* variables or ${env.TEMPORAL_CONFIG_FILE ?? 'the temporal.toml file'}): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const c = loaded.connectionOptions;
  return {
    address: c.address || DEFAULT_ADDRESS,
    namespace: loaded.namespace || DEFAULT_NAMESPACE,
    taskQueue: parsed.data.ROLLOUT_TASK_QUEUE,
    apiKey: c.apiKey,
    tls: asBuffers(c.tls),
    metadata: c.metadata,
  };
}

/** The loader hands out Uint8Arrays; the connection's TLS options are typed, and checked, as Buffers. */
function asBuffers(tls: TemporalSettings['tls']): TemporalSettings['tls'] {
  if (typeof tls !== 'object' || tls === null) return tls;
  const buf = (b: Uint8Array | undefined) => (b === undefined || Buffer.isBuffer(b) ? b : Buffer.from(b));
  return {
    ...tls,
    serverRootCACertificate: buf(tls.serverRootCACertificate),
    clientCertPair: tls.clientCertPair && {
      crt: buf(tls.clientCertPair.crt)!,
      key: buf(tls.clientCertPair.key)!,
    },
  };
}

/** The connection part of the settings, for `Connection.connect` and `NativeConnection.connect`. */
export function connectionOptions(settings: TemporalSettings) {
  return {
    address: settings.address,
    tls: settings.tls,
    apiKey: settings.apiKey,
    metadata: settings.metadata,
  };
}
