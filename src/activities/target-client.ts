import type { AxiosInstance } from 'axios';
import { MiB, bounded, messageOf } from '../providers/errors';

export type Impl = 'legacy' | 'domain';

/** Default cap on one probe's answer. */
export const PROBE_MAX_BYTES = 4 * MiB;

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
    /** Total deadline of one call: connect, headers and the whole body. */
    private readonly timeoutMs = 10_000,
    /** The most of an answer read; past it the call is cut off and reported like a refused one. */
    private readonly maxBytes = PROBE_MAX_BYTES,
  ) {}

  url(path: string): string {
    return `${this.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  async call(method: string, path: string, options: CallOptions): Promise<CallResult> {
    const url = this.url(path);
    const limits = {
      what: `probe ${method.toUpperCase()} ${url}`,
      deadlineMs: this.timeoutMs,
      maxBytes: this.maxBytes,
    };
    try {
      const res = await bounded(limits, (bounds) =>
        this.http.request({
          ...bounds,
          method,
          url,
          data: options.body,
          headers: { Accept: 'application/json', 'X-Rollout-Force': options.impl, ...options.headers },
          validateStatus: () => true,
          responseType: 'text',
          transformResponse: (d: unknown) => d,
        }),
      );
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
