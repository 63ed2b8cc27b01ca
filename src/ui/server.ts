/**
 * The rollout page (`npx rollout ui`, started by `npm start`): one port serving the page, its
 * chart library and the JSON API. Plain files, no build step: `page/` holds the HTML, script and
 * styles; uPlot comes from node_modules.
 */
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { openTemporal, type OpenTemporal } from '../client/connect';
import { apiRouter } from './api';

/** How `npx rollout ui` and `npm start` run the page. */
export interface UiOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Guards the API (reads and buttons); `null` leaves it open (only sensible on 127.0.0.1). */
  token: string | null;
  /**
   * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, … as for every verb; `ROLLOUT_UI_ALLOWED_HOSTS` adds
   * names the page may be reached by (behind a proxy, a DNS name) to loopback and `host`.
   */
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

/**
 * The host names a request may name in its `Host` header: loopback, the address the page listens
 * on, `ROLLOUT_UI_ALLOWED_HOSTS`, and on a wildcard address the machine's own names and addresses.
 * Any other name is a browser led here by DNS rebinding (a name of the attacker's resolving to
 * 127.0.0.1), and its pages must not read or act on rollouts.
 */
export function allowedHostNames(host: string, env: NodeJS.ProcessEnv): Set<string> {
  const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
  const bracket = (h: string) => (h.includes(':') ? `[${h}]` : h);
  const wildcard = host === '0.0.0.0' || host === '::' || host === '';
  if (!wildcard) names.add(bracket(host.toLowerCase()));
  else {
    names.add(os.hostname().toLowerCase());
    for (const list of Object.values(os.networkInterfaces()))
      for (const a of list ?? []) names.add(bracket(a.address.toLowerCase()));
  }
  for (const h of (env.ROLLOUT_UI_ALLOWED_HOSTS ?? '').split(','))
    if (h.trim()) names.add(h.trim().toLowerCase());
  return names;
}

/** The host name of a `Host` header (`[::1]:8400` → `[::1]`, `Example.com:80` → `example.com`). */
function hostName(header: string): string {
  const h = header.toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  return h.split(':')[0];
}

/**
 * Refuses (403) a request whose `Host` is not one of the page's names, and one whose `Origin` (a
 * browser sends it with cross-origin fetches and every POST) is not the page's own: another site's
 * script, or a site reached by DNS rebinding, neither reads nor acts.
 */
function sameSiteOnly(names: Set<string>) {
  return (req: Request, res: Response, next: NextFunction) => {
    const host = req.headers.host ?? '';
    const refuse = (why: string) => res.status(403).json({ error: `refused: ${why}` });
    if (!names.has(hostName(host)))
      return refuse(
        `Host ${JSON.stringify(host)} is not this page's (${[...names].join(', ')}; ROLLOUT_UI_ALLOWED_HOSTS adds names)`,
      );
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let same = false;
      try {
        same = new URL(origin).host.toLowerCase() === host.toLowerCase();
      } catch {
        // `null` (a sandboxed frame, a file) or garbage: not this page.
      }
      if (!same) return refuse(`Origin ${JSON.stringify(origin)} is not this page's (http://${host})`);
    }
    next();
  };
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
  app.use(sameSiteOnly(allowedHostNames(opts.host, opts.env)));
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
