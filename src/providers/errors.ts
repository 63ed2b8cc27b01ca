import { ApplicationFailure } from '@temporalio/common';
import { AxiosError } from 'axios';
import type { z } from 'zod';
import { formatLimit } from '../plan/duration';

/**
 * Helpers shared by every provider: how a failure is classified (retry or not) and how garbage
 * from the outside world is described. Providers throw plain `Error`s for transient trouble
 * (Temporal retries those) and `permanent()` failures for what no retry can fix.
 */

/**
 * An error no retry can fix: bad config, a missing secret, a refused credential. It is an
 * `ApplicationFailure.nonRetryable`, so Temporal stops retrying at once; outside an activity it is
 * just an `Error` with a `type`.
 */
export function permanent(message: string, type = 'RolloutConfigError'): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, type);
}

export function isPermanent(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.nonRetryable === true;
}

/** Error text for any thrown value. */
export function messageOf(err: unknown): string {
  if (err instanceof AxiosError) return describeAxiosError(err);
  // Not `instanceof Error` alone: errors from another realm (Node core errors under jest's VM) fail it.
  if (
    err instanceof Error ||
    (typeof err === 'object' && err !== null && typeof (err as Error).message === 'string')
  ) {
    return (err as Error).message;
  }
  return String(err);
}

/** `connect ECONNREFUSED 127.0.0.1:8000` or `timeout of 10000ms exceeded`, with the URL it was about. */
export function describeAxiosError(err: AxiosError): string {
  const where = err.config?.url
    ? `${(err.config.method ?? 'get').toUpperCase()} ${err.config.url}`
    : 'request';
  const code = err.code && !err.message.includes(err.code) ? ` (${err.code})` : '';
  return `${where}: ${err.message || err.code || 'request failed'}${code}`;
}

/** Describes zod issues with their paths, e.g. `groups.read.percent: expected number, received string`. */
export function describeIssues(error: z.ZodError, max = 5): string {
  const parts = error.issues.slice(0, max).map((i) => {
    const path = i.path.length
      ? i.path.map((k) => (typeof k === 'number' ? `[${k}]` : `.${String(k)}`)).join('')
      : '';
    return `${path ? path.replace(/^\./, '') : '(root)'}: ${i.message}`;
  });
  const more = error.issues.length > max ? ` (and ${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}

/**
 * Parses `data` with `schema`; on failure throws an error naming `where` (the URL or file) and
 * every offending path, so an operator sees what was wrong without a debugger.
 */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw new Error(`${where}: unexpected response: ${describeIssues(parsed.error)}; got ${preview(data)}`);
}

/** First characters of a value, for error messages about garbage. */
export function preview(data: unknown, max = 160): string {
  let text: string;
  if (typeof data === 'string') text = data;
  else {
    try {
      text = JSON.stringify(data) ?? String(data);
    } catch {
      text = String(data);
    }
  }
  text = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * Classifies an HTTP status that is not a success: 401/403 and most 4xx mean our request or our
 * credentials are wrong (permanent); 5xx, 408 and 429 may pass (transient).
 */
export function failForStatus(status: number, where: string, body: unknown, hint = ''): never {
  const text = `${where}: HTTP ${status}${hint ? ` (${hint})` : ''}: ${preview(body)}`;
  if (status === 408 || status === 429 || status >= 500) throw new Error(text);
  throw permanent(text, status === 401 || status === 403 ? 'RolloutAuthError' : 'RolloutRequestError');
}

/** Resolves after `ms`; rejects early if `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The bounds of one outbound HTTP call. `deadlineMs` is the whole call: connect, headers and every
 * byte of the body (axios's own `timeout` is an idle timer, which a target sending a byte a second
 * never trips); `maxBytes` caps the response body as it arrives (decompressed), so a huge answer is
 * cut off instead of buffered.
 */
export interface HttpLimits {
  /** What is asked and of whom, for messages: `metrics from http://…/metrics`. */
  what: string;
  deadlineMs: number;
  maxBytes: number;
  /** Cap on the request body we send; `maxBytes` unless given. */
  maxRequestBytes?: number;
  /** Other transport failures (refused, reset); `describeAxiosError` unless given. */
  describe?: (err: AxiosError) => string;
}

/** The axios options that enforce an `HttpLimits`; spread them into the request config. */
export interface BoundedOptions {
  signal: AbortSignal;
  timeout: number;
  maxContentLength: number;
  maxBodyLength: number;
}

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** `20971520` → `20 MiB`, `65536` → `64 KiB`. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/**
 * Runs one HTTP call within `limits`: `call` gets the axios options to pass on. A call that is not
 * complete by the deadline is aborted, and a body past the cap is cut off; either is a plain,
 * retryable `Error` naming what was asked, the limit and what happened. Other transport failures
 * (refused, reset) become a plain, retryable `Error` too, named by `limits.describe` (by default the
 * method and URL, instead of axios's bare `connect ECONNREFUSED`).
 */
export async function bounded<T>(
  limits: HttpLimits,
  call: (options: BoundedOptions) => Promise<T>,
): Promise<T> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), limits.deadlineMs);
  try {
    return await call({
      signal: deadline.signal,
      timeout: limits.deadlineMs,
      maxContentLength: limits.maxBytes,
      maxBodyLength: limits.maxRequestBytes ?? limits.maxBytes,
    });
  } catch (err) {
    // By the error, not by the signal alone: a refusal that came first stays a refusal. axios's own
    // `timeout` (set to the deadline too) says `timeout of Nms exceeded`; an OS `connect ETIMEDOUT`
    // is not ours.
    const timedOut =
      err instanceof AxiosError &&
      ((err.code === AxiosError.ERR_CANCELED && deadline.signal.aborted) ||
        /^timeout (of \d+ms )?exceeded$/.test(err.message));
    if (timedOut) {
      throw new Error(
        `${limits.what}: no complete answer within ${formatLimit(limits.deadlineMs)} (deadline)`,
      );
    }
    if (err instanceof AxiosError && /maxContentLength/.test(err.message)) {
      throw new Error(`${limits.what}: body larger than ${formatBytes(limits.maxBytes)} (cut off)`);
    }
    if (err instanceof AxiosError && /maxBodyLength/.test(err.message)) {
      throw new Error(
        `${limits.what}: request body larger than ${formatBytes(limits.maxRequestBytes ?? limits.maxBytes)} (not sent)`,
      );
    }
    if (err instanceof AxiosError) throw new Error((limits.describe ?? describeAxiosError)(err));
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
