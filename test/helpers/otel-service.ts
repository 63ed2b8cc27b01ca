import { freePort, startProcess, tsEntry, type Child } from './processes';
import type { Fault } from './otel-service-app';

export { ITEM_ENDPOINTS, type Fault } from './otel-service-app';

/**
 * The catalogue of otel-service-app.ts as two processes, and users sending it requests through a
 * router. The service's own module stays free of the test helpers, so its process loads little.
 */

export interface OtelService {
  impl: string;
  port: number;
  /** `127.0.0.1:<port>`: a Prometheus target, a router's server address. */
  address: string;
  child: Child;
  setFault(fault: Fault | undefined): Promise<void>;
  stop(): Promise<void>;
}

/** The service of `impl` as a process of its own (test/helpers/otel-service-main.ts) on a free port. */
export async function startOtelService(impl: string): Promise<OtelService> {
  const port = await freePort();
  const child = startProcess(process.execPath, tsEntry('test/helpers/otel-service-main.ts'), {
    ...process.env,
    IMPL: impl,
    PORT: String(port),
  });
  try {
    await child.waitFor(/otel-service \w+ listening/, 30_000);
  } catch (err) {
    await child.stop();
    throw err;
  }
  const address = `127.0.0.1:${port}`;
  return {
    impl,
    port,
    address,
    child,
    async setFault(fault) {
      const res = await fetch(`http://${address}/admin/fault`, {
        method: fault ? 'PUT' : 'DELETE',
        body: fault ? JSON.stringify(fault) : undefined,
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`${impl} /admin/fault: HTTP ${res.status}`);
    },
    stop: () => child.stop(),
  };
}

export interface LoadRun {
  /** Answers by `X-Served-By` and by status; `failed`: no answer at all. */
  counts(): { legacy: number; domain: number; statuses: Record<number, number>; failed: number };
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/**
 * Users of the catalogue through `front` (a router): `rps` requests a second, the list or a single
 * item, at most `maxMs` long so a forgotten run ends by itself.
 */
export function startLoad(front: string, rps: number, maxMs = 180_000): LoadRun {
  const counts = { legacy: 0, domain: 0, statuses: {} as Record<number, number>, failed: 0 };
  const inFlight = new Set<Promise<void>>();
  // A GET sent on a kept-alive connection the router closes under it (nginx's reload closes its
  // idle connections) is sent again once, as HTTP clients do for idempotent requests: only a
  // request that gets no answer then, or none within 5 s, counts as failed.
  const get = async (url: string) => {
    try {
      return await fetch(url, { signal: AbortSignal.timeout(5000) });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') throw err;
      return fetch(url, { signal: AbortSignal.timeout(5000) });
    }
  };
  const one = async (path: string) => {
    try {
      const res = await get(`${front}${path}`);
      await res.arrayBuffer();
      const by = res.headers.get('x-served-by');
      if (by === 'legacy' || by === 'domain') counts[by] += 1;
      counts.statuses[res.status] = (counts.statuses[res.status] ?? 0) + 1;
    } catch {
      counts.failed += 1;
    }
  };
  const timer = setInterval(() => {
    for (let i = 0; i < rps / 20; i++) {
      // Routes at random, not in turn: a round-robin router alternating between two servers would
      // otherwise send every list request to one and every single-item request to the other.
      const p = one(Math.random() < 0.5 ? '/api/items' : `/api/items/${1 + Math.floor(Math.random() * 50)}`).finally(() =>
        inFlight.delete(p),
      );
      inFlight.add(p);
    }
  }, 50);
  const stopAt = setTimeout(() => clearInterval(timer), maxMs);
  return {
    counts: () => ({ ...counts, statuses: { ...counts.statuses } }),
    async stop() {
      clearInterval(timer);
      clearTimeout(stopAt);
      await Promise.all(inFlight);
    },
  };
}
