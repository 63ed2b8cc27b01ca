import { randomBytes, randomInt } from 'node:crypto';

/**
 * Synthetic users for demos and tests: mostly reads over the four GET routes, some writes on
 * cameras of their own (tagged `synthetic`, bounded in number, deleted on stop). Every request
 * carries a user id as `X-Rollout-Key`, so the backend's sticky routing shows in the served share.
 */

export interface TrafficOptions {
  /** Base URL of the backend, e.g. `http://127.0.0.1:8000`. Loopback only unless `allowRemote`. */
  target: string;
  /** Requests per second (spread evenly, not in bursts). */
  rps: number;
  /** Share of requests that are writes, 0..1. Default 0.1. */
  writeRatio?: number;
  /** Stops by itself after this long; without it, runs until `stop()`. */
  durationMs?: number;
  /**
   * Size of the synthetic user population (distinct `X-Rollout-Key`s). Default 100000: with sticky
   * routing the served share is the share of *users* below the percent, and 1000 users put only
   * 8.1% of them under 10% (4.1% under 5%), outside the ±10% served-share band of the seed plan.
   */
  users?: number;
  /** At most this many synthetic cameras exist at once. Default 20. */
  maxCameras?: number;
  /** Per-request timeout. Default 5000 ms. */
  timeoutMs?: number;
  /** This is a load generator: refuse non-loopback targets unless asked explicitly. */
  allowRemote?: boolean;
}

export interface TrafficStats {
  /** Requests started (cleanup excluded). */
  sent: number;
  /** Requests that got an HTTP answer. */
  completed: number;
  /** Network errors and timeouts. */
  failed: number;
  inFlight: number;
  /** Ticks skipped because too many requests were already in flight (the backend is too slow). */
  skipped: number;
  reads: number;
  writes: number;
  byStatus: Record<string, number>;
  byImpl: Record<string, number>;
  /** Synthetic cameras that exist now. */
  ownedCameras: number;
  cleanup: { deleted: number; failed: number };
  elapsedMs: number;
  running: boolean;
}

export interface TrafficRun {
  /** Stops sending, waits for requests in flight, deletes the cameras it created. Idempotent. */
  stop(): Promise<void>;
  stats(): TrafficStats;
  /** Resolves once stopped and cleaned up (after `durationMs` or `stop()`). */
  readonly done: Promise<void>;
}

const READ_PATHS = [
  '/api/v1/system/info',
  '/api/v1/alerts/history-db',
  '/api/v1/alerts/rules',
  '/api/v1/cameras',
];
const TICK_MS = 20;

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function validateTrafficOptions(options: TrafficOptions): URL {
  let url: URL;
  try {
    url = new URL(options.target);
  } catch {
    throw new Error(`target: not a URL (${JSON.stringify(options.target)})`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error('target: must be an http(s) URL');
  if (!options.allowRemote && !isLoopback(url.hostname)) {
    throw new Error(
      `target: ${url.hostname} is not a loopback address (pass allowRemote / --allow-remote to insist)`,
    );
  }
  if (!(options.rps > 0 && options.rps <= 10_000)) throw new Error('rps: must be a number in (0, 10000]');
  const writeRatio = options.writeRatio ?? 0.1;
  if (!(writeRatio >= 0 && writeRatio <= 1)) throw new Error('writeRatio: must be 0..1');
  if (options.durationMs !== undefined && !(options.durationMs > 0))
    throw new Error('durationMs: must be > 0');
  return url;
}

export function startTraffic(options: TrafficOptions): TrafficRun {
  const base = validateTrafficOptions(options).toString().replace(/\/$/, '');
  const writeRatio = options.writeRatio ?? 0.1;
  const users = Math.max(1, options.users ?? 100_000);
  const maxCameras = Math.max(1, options.maxCameras ?? 20);
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxInFlight = Math.max(32, Math.ceil(options.rps * 2));
  const runId = randomBytes(3).toString('hex');

  const startedAt = Date.now();
  const counters = { sent: 0, completed: 0, failed: 0, skipped: 0, reads: 0, writes: 0 };
  const byStatus: Record<string, number> = {};
  const byImpl: Record<string, number> = {};
  const cleanup = { deleted: 0, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  /** Cameras this run created and has not deleted. */
  const owned = new Set<string>();
  /** Cameras with a request on the way (never two writes on one camera at once: no self-inflicted 404s). */
  const busy = new Set<string>();
  let pendingCreates = 0;
  let sequence = 0;
  let scheduled = 0;
  let running = true;

  async function call(
    method: string,
    path: string,
    body?: unknown,
    userKey = `user-${randomInt(users)}`,
  ): Promise<{ status: number; impl: string } | undefined> {
    try {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: {
          'X-Rollout-Key': userKey,
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      return { status: res.status, impl: res.headers.get('x-served-by') ?? 'unknown' };
    } catch {
      return undefined;
    }
  }

  function count(result: { status: number; impl: string } | undefined): void {
    if (!result) {
      counters.failed++;
      return;
    }
    counters.completed++;
    byStatus[result.status] = (byStatus[result.status] ?? 0) + 1;
    byImpl[result.impl] = (byImpl[result.impl] ?? 0) + 1;
  }

  function pickIdle(): string | undefined {
    const idle = [...owned].filter((id) => !busy.has(id));
    return idle.length === 0 ? undefined : idle[randomInt(idle.length)];
  }

  async function read(): Promise<void> {
    counters.reads++;
    const path = READ_PATHS[randomInt(READ_PATHS.length)];
    const query = path.endsWith('history-db') ? `?limit=${10 + randomInt(91)}` : '';
    count(await call('GET', path + query));
  }

  async function create(): Promise<void> {
    counters.writes++;
    const id = `syn-${runId}-${++sequence}`;
    pendingCreates++;
    try {
      const result = await call('POST', '/api/v1/cameras', {
        id,
        name: `Synthetic camera ${sequence}`,
        location: 'synthetic',
        rtsp_url: `rtsp://192.0.2.${1 + (sequence % 250)}:554/stream`,
        tags: ['synthetic'],
      });
      count(result);
      if (result?.status === 201) owned.add(id);
    } finally {
      pendingCreates--;
    }
  }

  async function update(id: string): Promise<void> {
    counters.writes++;
    busy.add(id);
    try {
      const result = await call('PUT', `/api/v1/cameras/${id}`, {
        name: `Synthetic camera ${id} v${randomInt(1000)}`,
        enabled: randomInt(2) === 1,
      });
      count(result);
      if (result?.status === 404) owned.delete(id);
    } finally {
      busy.delete(id);
    }
  }

  async function remove(id: string): Promise<void> {
    counters.writes++;
    busy.add(id);
    try {
      const result = await call('DELETE', `/api/v1/cameras/${id}`);
      count(result);
      if (result?.status === 204 || result?.status === 404) owned.delete(id);
    } finally {
      busy.delete(id);
    }
  }

  /** Create while under the bound; otherwise change or delete a camera no other request is touching. */
  function write(): Promise<void> {
    const canCreate = owned.size + pendingCreates < maxCameras;
    const idle = pickIdle();
    if (idle === undefined) return canCreate ? create() : read();
    if (canCreate && Math.random() < 0.4) return create();
    return Math.random() < 0.6 ? update(idle) : remove(idle);
  }

  function launch(): void {
    if (inFlight.size >= maxInFlight) {
      counters.skipped++;
      return;
    }
    counters.sent++;
    const request = (Math.random() < writeRatio ? write() : read()).finally(() => inFlight.delete(request));
    inFlight.add(request);
  }

  // Catch up to the schedule on each tick, so timer jitter does not lower the rate.
  const ticker = setInterval(() => {
    const due = Math.floor(((Date.now() - startedAt) / 1000) * options.rps);
    for (; scheduled < due; scheduled++) launch();
  }, TICK_MS);
  const deadline =
    options.durationMs === undefined ? undefined : setTimeout(() => void stop(), options.durationMs);

  let stopping: Promise<void> | undefined;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  async function deleteOwned(): Promise<void> {
    for (const id of [...owned]) {
      let deleted = false;
      for (let attempt = 0; attempt < 3 && !deleted; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 200));
        const result = await call('DELETE', `/api/v1/cameras/${id}`, undefined, `cleanup-${runId}`);
        deleted = result?.status === 204 || result?.status === 404;
      }
      if (deleted) {
        owned.delete(id);
        cleanup.deleted++;
      } else cleanup.failed++;
    }
  }

  function stop(): Promise<void> {
    stopping ??= (async () => {
      running = false;
      clearInterval(ticker);
      if (deadline) clearTimeout(deadline);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await deleteOwned();
      resolveDone();
    })();
    return stopping;
  }

  return {
    stop,
    done,
    stats: () => ({
      ...counters,
      inFlight: inFlight.size,
      byStatus: { ...byStatus },
      byImpl: { ...byImpl },
      ownedCameras: owned.size,
      cleanup: { ...cleanup },
      elapsedMs: Date.now() - startedAt,
      running,
    }),
  };
}
