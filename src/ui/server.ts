/**
 * The rollout page (`npx rollout ui`, started by `npm start`): one port serving the page, its
 * chart library and the JSON API. Plain files, no build step: `page/` holds the HTML, script and
 * styles; uPlot comes from node_modules.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import express from 'express';
import { openTemporal, type OpenTemporal } from '../client/connect';
import { apiRouter } from './api';

/** How `npx rollout ui` and `npm start` run the page. */
export interface UiOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Guards the buttons; `null` leaves them open (only sensible on 127.0.0.1). */
  token: string | null;
  /** TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, … as for every verb. */
  env: NodeJS.ProcessEnv;
}

export interface RunningUi {
  /** The page's address, without the token. */
  url: string;
  /** The address to open: with `?token=…` when a token guards the buttons. */
  openUrl: string;
  close(): Promise<void>;
}

/** `ROLLOUT_UI_TOKEN`, or a fresh random one: the buttons are never open by accident. */
export function uiToken(given: string | undefined): string {
  return given && given.trim() !== '' ? given.trim() : crypto.randomBytes(12).toString('base64url');
}

// The page's files are not TypeScript: a build (dist/src/ui) reads them from the sources.
const PAGE_DIR = __dirname.includes(`${path.sep}dist${path.sep}`)
  ? path.resolve(__dirname, '../../../src/ui/page')
  : path.join(__dirname, 'page');

export async function startUi(opts: UiOptions): Promise<RunningUi> {
  let temporal: Promise<OpenTemporal> | undefined;
  const connect = () => {
    temporal ??= openTemporal(opts.env).catch((err: unknown) => {
      temporal = undefined; // the next request tries again
      throw err;
    });
    return temporal;
  };
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true, service: 'rollout-page' });
  });
  app.use('/api', apiRouter({ temporal: connect, token: opts.token }));
  app.use('/vendor/uplot', express.static(path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'))));
  app.use(express.static(PAGE_DIR, { index: 'index.html' }));
  app.use((req, res) => {
    res.status(404).type('text/plain').send(`not found: ${req.path} (the rollout page is at /)`);
  });

  const server = await new Promise<ReturnType<typeof app.listen>>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  return {
    url,
    openUrl: opts.token ? `${url}/?token=${encodeURIComponent(opts.token)}` : url,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (temporal) await (await temporal.catch(() => null))?.close();
    },
  };
}
