import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startBackend, type RunningBackend } from '../../example-backend/app';

/** Shared by the provider and activity suites: real servers on 127.0.0.1, temp dirs, polling. */

export const ADMIN_TOKEN = 'provider-test-token';
export const REPO_ROOT = path.resolve(__dirname, '../..');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export interface Backend extends RunningBackend {
  /** `fetch` against the backend, admin routes with the token. */
  call(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; servedBy: string | null }>;
  admin(method: string, urlPath: string, body?: unknown): Promise<{ status: number; body: any }>;
  dispose(): Promise<void>;
}

/** The real example backend in-process, with its data in a fresh temp dir. */
export async function startTestBackend(env: Record<string, string> = {}): Promise<Backend> {
  const dataDir = tempDir('provider-backend');
  const backend = await startBackend({
    port: 0,
    dataDir,
    adminToken: ADMIN_TOKEN,
    env,
    log: () => undefined,
  });
  const call: Backend['call'] = async (method, urlPath, body, headers = {}) => {
    const res = await fetch(backend.url + urlPath, {
      method,
      headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // keep text
    }
    return { status: res.status, body: parsed, servedBy: res.headers.get('x-served-by') };
  };
  return {
    ...backend,
    call,
    admin: (method, urlPath, body) => call(method, urlPath, body, { Authorization: `Bearer ${ADMIN_TOKEN}` }),
    async dispose() {
      await backend.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

/** A throwaway HTTP server on 127.0.0.1 (webhooks, garbage metrics endpoints). */
export async function serve(handler: http.RequestListener): Promise<Served> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was free a moment ago (for processes that need a fixed port in their config). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The rejection of `p` (fails the test if `p` resolves). */
export async function rejectionOf(
  p: Promise<unknown>,
): Promise<Error & { nonRetryable?: boolean; type?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { nonRetryable?: boolean; type?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}

/** A server that answers 200 and then misbehaves in its body; what it did, per request. */
export interface Misbehaving extends Served {
  /** Per request: body bytes written so far, and whether the client has hung up. */
  readonly answers: Array<{ sent: number; closed: boolean }>;
  /** Resolves once every answer begun has been hung up on by the client (fails after `timeoutMs`). */
  allHungUp(timeoutMs?: number): Promise<void>;
}

async function misbehaving(
  contentType: string,
  body: (res: http.ServerResponse, answer: { sent: number; closed: boolean }) => void,
): Promise<Misbehaving> {
  const answers: Misbehaving['answers'] = [];
  const served = await serve((req, res) => {
    const answer = { sent: 0, closed: false };
    answers.push(answer);
    req.resume();
    res.on('close', () => (answer.closed = true));
    res.writeHead(200, { 'Content-Type': contentType });
    body(res, answer);
  });
  return {
    ...served,
    answers,
    allHungUp: (timeoutMs = 5000) =>
      waitFor(
        'the client to hang up',
        async () => (answers.length > 0 && answers.every((a) => a.closed) ? true : undefined),
        timeoutMs,
        50,
      ).then(() => undefined),
  };
}

/**
 * Headers at once, then the body one byte a second, never ending: a target (or a proxy) that
 * drips. Only a deadline on the whole call, not an idle timeout, ever ends such a request.
 */
export function dripping(contentType = 'text/plain'): Promise<Misbehaving> {
  return misbehaving(contentType, (res, answer) => {
    res.flushHeaders();
    const timer = setInterval(() => {
      res.write(' ');
      answer.sent += 1;
    }, 1000);
    res.on('close', () => clearInterval(timer));
  });
}

/**
 * A body of `totalBytes` (200 MiB by default), chunked (no Content-Length to refuse it by), as
 * fast as the client reads it: `answers[i].sent` then shows how much a capped client took.
 */
export function flooding(contentType = 'text/plain', totalBytes = 200 * 1024 * 1024): Promise<Misbehaving> {
  const chunk = Buffer.alloc(64 * 1024, '#');
  return misbehaving(contentType, (res, answer) => {
    const pump = () => {
      while (answer.sent < totalBytes && !answer.closed) {
        answer.sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      if (!answer.closed) res.end();
    };
    pump();
  });
}
