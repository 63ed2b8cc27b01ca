import axios, { type AxiosInstance } from 'axios';
import { z } from 'zod';
import type { TrafficConfig } from '../../plan/schema';
import type { TrafficState } from '../../contracts/traffic';
import { KiB, MiB, bounded, failForStatus, parseWith, permanent, type HttpLimits } from '../errors';
import { durationMs, requireEnv, type Env } from '../settings';
import type { TrafficProvider } from './traffic-provider';

export type HttpTrafficConfig = Extract<TrafficConfig, { type: 'http' }>;

/** The most of an admin API answer read (a state is a few hundred bytes); past it the call fails. */
export const TRAFFIC_MAX_BYTES = MiB;
/** The most we send: a PUT is one small JSON object. */
const TRAFFIC_MAX_REQUEST_BYTES = 64 * KiB;

/** `GET|PUT /admin/rollout` as the backend answers it (SPEC §5). Unknown keys are ignored. */
export const rolloutStateSchema = z.object({
  useDomainService: z.boolean(),
  groups: z.record(z.string(), z.object({ percent: z.number().min(0).max(100) })),
});

/**
 * Talks to the target's admin API. Every change is read back with a GET, so the state returned is
 * what the target says it now does, not what we asked for.
 */
export class HttpTrafficProvider implements TrafficProvider {
  private readonly timeoutMs: number;

  constructor(
    private readonly config: HttpTrafficConfig,
    private readonly env: Env,
    private readonly http: AxiosInstance = axios,
  ) {
    this.timeoutMs = durationMs(config.timeout, 'target.traffic.timeout', '10s');
    // Fail at once, naming the variable, rather than with a 401 later.
    this.request();
  }

  /**
   * Per-request options. The token is read from the environment each time, so a rotated secret
   * is picked up without restarting the worker. Statuses are classified by us, not thrown by axios.
   */
  private request() {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.config.tokenEnv) {
      headers.Authorization = `Bearer ${requireEnv(this.env, this.config.tokenEnv, `the admin API at ${this.config.url}`)}`;
    }
    return { headers, validateStatus: () => true };
  }

  /** Total deadline (`target.traffic.timeout`) and body cap of one call. */
  private limits(method: string): HttpLimits {
    return {
      what: `traffic admin ${method} ${this.config.url}`,
      deadlineMs: this.timeoutMs,
      maxBytes: TRAFFIC_MAX_BYTES,
      maxRequestBytes: TRAFFIC_MAX_REQUEST_BYTES,
    };
  }

  async get(): Promise<TrafficState> {
    const res = await bounded(this.limits('GET'), (bounds) =>
      this.http.get(this.config.url, { ...this.request(), ...bounds }),
    );
    if (res.status < 200 || res.status >= 300)
      failForStatus(res.status, `GET ${this.config.url}`, res.data, this.hint(res.status));
    return parseWith(rolloutStateSchema, res.data, `GET ${this.config.url}`);
  }

  async setPercent(group: string, percent: number): Promise<TrafficState> {
    if (!(percent >= 0 && percent <= 100))
      throw permanent(`percent for group ${group} must be 0..100, got ${percent}`);
    await this.put({ groups: { [group]: { percent } } });
    const state = await this.get();
    const now = state.groups[group];
    if (!now)
      throw permanent(
        `${this.config.url} does not know group "${group}" (it has ${Object.keys(state.groups).join(', ') || 'none'})`,
      );
    if (now.percent !== percent) {
      throw new Error(`${this.config.url}: group ${group} is at ${now.percent}% after setting ${percent}%`);
    }
    return state;
  }

  async setKillSwitch(useDomainService: boolean): Promise<TrafficState> {
    await this.put({ useDomainService });
    const state = await this.get();
    if (state.useDomainService !== useDomainService) {
      throw new Error(
        `${this.config.url}: useDomainService is ${state.useDomainService} after setting ${useDomainService}`,
      );
    }
    return state;
  }

  private async put(body: unknown): Promise<void> {
    const res = await bounded(this.limits('PUT'), (bounds) =>
      this.http.put(this.config.url, body, { ...this.request(), ...bounds }),
    );
    if (res.status < 200 || res.status >= 300)
      failForStatus(res.status, `PUT ${this.config.url}`, res.data, this.hint(res.status));
  }

  private hint(status: number): string {
    if (status !== 401 && status !== 403) return '';
    return this.config.tokenEnv
      ? `the token in ${this.config.tokenEnv} was refused`
      : 'the admin API wants a token: set target.traffic.tokenEnv to the variable holding it';
  }
}
