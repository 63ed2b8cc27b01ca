import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import YAML from 'yaml';
import {
  startOrdersService,
  type OrdersServiceOptions,
  type RunningOrdersService,
} from '../fixtures/orders-service/app';

export const ADMIN_TOKEN = 'orders-admin-token';
export const IMPLS = ['legacy', 'domain'] as const;

export interface Answer {
  status: number;
  servedBy: string | null;
  headers: Headers;
  // Answers are read loosely in assertions; where the shape is the point, a zod schema parses them.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

export interface Call {
  body?: unknown;
  /** Sent as `X-Rollout-Force`. */
  force?: string;
  headers?: Record<string, string>;
  /** A string is sent as it is (malformed JSON); anything else JSON-encoded. */
  raw?: string;
}

export interface OrdersUnderTest extends RunningOrdersService {
  call(method: string, urlPath: string, init?: Call): Promise<Answer>;
  admin(method: string, urlPath: string, body?: unknown): Promise<Answer>;
  /** The table as the consistency check reads it, by order_id. */
  dbOrders(): Record<string, unknown>[];
  /** The YAML list as the consistency check reads it. */
  yamlOrders(): Record<string, unknown>[];
  /** Both stores byte for byte, to prove a failed write changed nothing. */
  snapshot(): { db: string; yaml: string };
  metrics(): Promise<string>;
  dispose(): Promise<void>;
}

export async function startOrders(options: Partial<OrdersServiceOptions> = {}): Promise<OrdersUnderTest> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'orders-service-test-'));
  const service = await startOrdersService({
    port: 0,
    adminToken: ADMIN_TOKEN,
    log: () => undefined,
    ...options,
    dataDir,
  });

  const call: OrdersUnderTest['call'] = async (method, urlPath, init = {}) => {
    const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
    const res = await fetch(service.url + urlPath, {
      method,
      headers: {
        ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(init.force ? { 'X-Rollout-Force': init.force } : {}),
        ...init.headers,
      },
      body: payload,
    });
    const text = await res.text();
    return {
      status: res.status,
      servedBy: res.headers.get('x-served-by'),
      headers: res.headers,
      body: text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text,
    };
  };

  const dbOrders = () => {
    const db = new Database(service.dbPath, { readonly: true });
    try {
      return db.prepare('SELECT * FROM orders ORDER BY order_id').all() as Record<string, unknown>[];
    } finally {
      db.close();
    }
  };

  return {
    ...service,
    call,
    admin: (method, urlPath, body) =>
      call(method, urlPath, { body, headers: { Authorization: `Bearer ${ADMIN_TOKEN}` } }),
    dbOrders,
    yamlOrders: () => YAML.parse(fs.readFileSync(service.yamlPath, 'utf8'), { version: '1.2' }).orders ?? [],
    snapshot: () => ({ db: JSON.stringify(dbOrders()), yaml: fs.readFileSync(service.yamlPath, 'utf8') }),
    metrics: async () => (await call('GET', '/metrics')).body as string,
    async dispose() {
      await service.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sum of the samples of `name` whose labels include `labels` (Prometheus text format). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(match[3]);
  }
  return sum;
}
