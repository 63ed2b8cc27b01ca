import type { AxiosInstance } from 'axios';
import { messageOf } from '../providers/errors';

export type Impl = 'legacy' | 'domain';

export interface CallResult {
  /** 0 when no HTTP answer came (refused, timed out). */
  status: number;
  body: unknown;
  /** The `X-Served-By` header, if any. */
  servedBy?: string;
  /** Transport error, when `status` is 0. */
  error?: string;
}

export interface CallOptions {
  /** Sent as `X-Rollout-Force`: probes pick the implementation themselves. */
  impl: Impl;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * The target's API as probes call it. Never throws for an HTTP or network failure: probes turn
 * those into report lines, and only a programming error escapes.
 */
export class TargetClient {
  constructor(
    private readonly http: AxiosInstance,
    private readonly baseUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  async call(method: string, path: string, options: CallOptions): Promise<CallResult> {
    try {
      const res = await this.http.request({
        method,
        url: this.url(path),
        data: options.body,
        headers: { Accept: 'application/json', 'X-Rollout-Force': options.impl, ...options.headers },
        timeout: this.timeoutMs,
        validateStatus: () => true,
        responseType: 'text',
        transformResponse: (d: unknown) => d,
      });
      const text = typeof res.data === 'string' ? res.data : '';
      let body: unknown = text;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON: kept as text, the caller reports it.
        }
      } else body = undefined;
      const servedBy = res.headers['x-served-by'];
      return { status: res.status, body, servedBy: typeof servedBy === 'string' ? servedBy : undefined };
    } catch (err) {
      return { status: 0, body: undefined, error: messageOf(err) };
    }
  }
}

/** `status 500: {"error":"..."}` or the transport error. */
export function describeCall(r: CallResult): string {
  if (r.status === 0) return r.error ?? 'no answer';
  const body = r.body === undefined ? '' : `: ${JSON.stringify(r.body)?.slice(0, 160)}`;
  return `status ${r.status}${body}`;
}

/** Server errors and unreachable endpoints, as opposed to wrong answers. */
export function isServerError(r: CallResult): boolean {
  return r.status === 0 || r.status >= 500;
}

/** A step's expected status: an exact code or a class (`2xx`). */
export type StatusSpec = number | `${number}xx`;

export function statusMatches(status: number, spec: StatusSpec): boolean {
  if (typeof spec === 'number') return status === spec;
  return status !== 0 && Math.floor(status / 100) === Number(spec[0]);
}

/** A status the probe expects to be an error (a request that must fail). */
export function expectsFailure(spec: StatusSpec): boolean {
  return typeof spec === 'number' ? spec >= 400 : spec === '4xx' || spec === '5xx';
}

/** The failure line of a probe another implementation answered than the one it forced, if it was. */
export function answeredElsewhere(r: CallResult, impl: Impl, via: string): string | undefined {
  return r.servedBy && r.servedBy !== impl
    ? `${via}: answered by ${r.servedBy} (X-Served-By); X-Rollout-Force is not honoured`
    : undefined;
}
