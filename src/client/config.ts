import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';
import net from 'node:net';
import { z } from 'zod';
import { TASK_QUEUE } from '../contracts/definitions';

/** Our own variables; the connection itself follows the SDK's environment configuration. */
const envSchema = z.object({
  ROLLOUT_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
});

/** Our variables of `env` by `schema`, or one error naming every variable that is wrong. */
export function parseEnv<T extends z.ZodTypeAny>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  throw new Error(`invalid environment: ${problems}`);
}

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
const DEFAULT_PORT = 7233;
const DEFAULT_NAMESPACE = 'default';

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * A Temporal gRPC address: `host:port` with a DNS name, an IPv4 address or a bracketed IPv6
 * address; without a port the SDK's default 7233 is added, as the SDK itself does. Returns the
 * address with its port, or why it is not one: the SDK would otherwise fail after we printed
 * "connecting" (`http://…`), or Node would throw on the port (`:99999`).
 */
export function parseTemporalAddress(text: string): { address: string } | { problem: string } {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*))(?::(\d*))?$/.exec(text);
  if (!m || text.includes('/')) return { problem: 'must be host:port, without a scheme or path' };
  const [, v6, name, port] = m;
  let host: string;
  if (v6 !== undefined) {
    if (!net.isIPv6(v6)) return { problem: `[${v6}] is not an IPv6 address` };
    host = `[${v6}]`;
  } else {
    const labels = name.split('.');
    const ipLike = labels.length === 4 && labels.every((l) => /^\d+$/.test(l));
    if (ipLike ? !net.isIPv4(name) : name.length > 253 || !labels.every((l) => DNS_LABEL.test(l)))
      return { problem: `${JSON.stringify(name)} is not a host name or IP address` };
    host = name;
  }
  if (port === undefined) return { address: `${host}:${DEFAULT_PORT}` };
  const n = Number(port);
  if (!/^\d{1,5}$/.test(port) || n < 1 || n > 65535)
    return { problem: `port ${JSON.stringify(port)} is not 1..65535` };
  return { address: `${host}:${n}` };
}

/**
 * Reads the connection the way the SDKs and the `temporal` CLI do (SPEC §3): `TEMPORAL_ADDRESS`,
 * `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` (e.g. `TEMPORAL_TLS_CLIENT_CERT_PATH`,
 * `TEMPORAL_TLS_CLIENT_KEY_PATH`, `TEMPORAL_TLS_SERVER_CA_CERT_PATH`), `TEMPORAL_PROFILE` and the
 * TOML file of `TEMPORAL_CONFIG_FILE` (default `~/.config/temporalio/temporal.toml`), variables
 * winning over the file. So one worker runs against a dev server, a self-hosted cluster or
 * Temporal Cloud with nothing but the environment changed.
 */
export function temporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const ours = parseEnv(envSchema, env);
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
  const address = parseTemporalAddress(c.address || DEFAULT_ADDRESS);
  if ('problem' in address) {
    const from = env.TEMPORAL_ADDRESS
      ? 'TEMPORAL_ADDRESS'
      : `the address of profile ${env.TEMPORAL_PROFILE || 'default'} in ${env.TEMPORAL_CONFIG_FILE ?? 'the temporal.toml file'}`;
    throw new Error(
      `${from}: ${address.problem} (got ${JSON.stringify(c.address)}), e.g. TEMPORAL_ADDRESS=127.0.0.1:7233`,
    );
  }
  return {
    address: address.address,
    namespace: loaded.namespace || DEFAULT_NAMESPACE,
    taskQueue: ours.ROLLOUT_TASK_QUEUE,
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
