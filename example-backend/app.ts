import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { mountOperations } from './admin';
import { apiRouter } from './api-routes';
import { parseRolloutEnv } from './config';
import { createDomainApi } from './domain/camera-api';
import { ApiError } from './errors';
import { answerClientError, errorHandler, requireDecodablePath } from './error-reply';
import { Faults } from './faults';
import { createLegacyApi } from './legacy/camera-api';
import { BackendMetrics } from './metrics';
import { Rollout } from './routing';
import { DataStore } from './store';

export interface BackendOptions {
  /** 0 picks a free port. Default 8000. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  dataDir: string;
  /** When set, `/admin/*` requires `Authorization: Bearer <adminToken>`. */
  adminToken?: string;
  /**
   * `USE_DOMAIN_SERVICE`, `ROLLOUT_PERCENT`, `ROLLOUT_PERCENT_READ`, `ROLLOUT_PERCENT_WRITE`.
   * Defaults to `{}` (domain allowed, 0%), not `process.env`, so embedding never picks up a stray shell variable.
   */
  env?: Record<string, string | undefined>;
  /** Warnings (e.g. an unexpected server error). Default `console.error`. */
  log?: (line: string) => void;
}

export interface RunningBackend {
  /** `http://host:port`, no trailing slash. */
  url: string;
  port: number;
  dataDir: string;
  dbPath: string;
  yamlPath: string;
  close(): Promise<void>;
}

/** Starts the example camera API; rejects with a `ConfigError` naming the variable when `env` is invalid. */
export async function startBackend(options: BackendOptions): Promise<RunningBackend> {
  const log = options.log ?? ((line: string) => console.error(line));
  const rollout = new Rollout(parseRolloutEnv(options.env ?? {}));
  const store = DataStore.open(options.dataDir, log);
  const faults = new Faults();
  const metrics = new BackendMetrics(rollout.keys);
  rollout.onChange((state) => metrics.setRollout(state));
  const startedAt = Date.now();
  const apis = { legacy: createLegacyApi(store, startedAt), domain: createDomainApi(store, startedAt) };

  const app = express();
  app.disable('x-powered-by');
  // No ETags: a 304 would hide the implementation's answer from probes and skew the status mix.
  app.set('etag', false);
  app.use(requireDecodablePath);

  mountOperations(app, { rollout, faults, metrics, adminToken: options.adminToken });
  app.use(apiRouter({ rollout, faults, metrics, apis }));
  app.use((req, _res, next) => next(new ApiError(404, `no route for ${req.method} ${req.path}`)));

  app.use(errorHandler(log));

  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 8000, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    store.close();
    throw error;
  }

  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    dataDir: store.dataDir,
    dbPath: store.dbPath,
    yamlPath: store.yamlPath,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive sockets (traffic generators) would hold close() open until they time out.
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      }).finally(() => store.close());
      return closing;
    },
  };
}
