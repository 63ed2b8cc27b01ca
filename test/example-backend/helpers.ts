import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import { startBackend, type BackendOptions, type RunningBackend } from '../../example-backend/app';
import type { Camera } from '../../example-backend/schemas';

export interface TestBackend extends RunningBackend {
  request(
    method: string,
    urlPath: string,
    init?: { body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply>;
  admin(method: string, urlPath: string, body?: unknown): Promise<Reply>;
  /** Removes the temp data dir after closing. */
  dispose(): Promise<void>;
}

export interface Reply {
  method: string;
  path: string;
  status: number;
  headers: Headers;
  servedBy: string | null;
  body: any;
  text: string;
}

export const TOKEN = 'test-admin-token';

export async function startTestBackend(options: Partial<BackendOptions> = {}): Promise<TestBackend> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'camera-api-test-'));
  const backend = await startBackend({
    port: 0,
    adminToken: TOKEN,
    log: () => undefined,
    ...options,
    dataDir,
  });
  const request: TestBackend['request'] = async (method, urlPath, init = {}) => {
    const res = await fetch(backend.url + urlPath, {
      method,
      headers: {
        ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...init.headers,
      },
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      method,
      path: urlPath,
      status: res.status,
      headers: res.headers,
      servedBy: res.headers.get('x-served-by'),
      body,
      text,
    };
  };
  return {
    ...backend,
    request,
    admin: (method, urlPath, body) =>
      request(method, urlPath, { body, headers: { Authorization: `Bearer ${options.adminToken ?? TOKEN}` } }),
    async dispose() {
      await backend.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads the cameras table on its own connection, with its own mapping (not the backend's). */
export function camerasInDb(dbPath: string): Camera[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT * FROM cameras ORDER BY id').all() as Array<Record<string, unknown>>).map(
      (r) => ({
        id: String(r.id),
        name: String(r.name),
        location: String(r.location),
        rtsp_url: String(r.rtsp_url),
        enabled: r.enabled === 1,
        tags: JSON.parse(String(r.tags)) as string[],
        created_at: String(r.created_at),
        updated_at: String(r.updated_at),
      }),
    );
  } finally {
    db.close();
  }
}

export function camerasInYaml(yamlPath: string): Camera[] {
  return (YAML.parse(fs.readFileSync(yamlPath, 'utf8')) as { cameras: Camera[] }).cameras;
}

/** Byte-level snapshot of both stores, for "left exactly as before" assertions. */
export function snapshot(backend: RunningBackend): { db: Camera[]; yaml: string; files: string[] } {
  return {
    db: camerasInDb(backend.dbPath),
    yaml: fs.readFileSync(backend.yamlPath, 'utf8'),
    files: fs
      .readdirSync(backend.dataDir)
      .filter((f) => !f.startsWith('cameras.db'))
      .sort(),
  };
}

/** Runs `count` calls, `width` at a time. */
export async function inBatches<T>(
  count: number,
  width: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = [];
  for (let start = 0; start < count; start += width) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(width, count - start) }, (_, j) => fn(start + j)),
    );
    out.push(...batch);
  }
  return out;
}

export function randomKey(): string {
  return `user-${Math.random().toString(36).slice(2)}-${Date.now().toString(36)}`;
}
