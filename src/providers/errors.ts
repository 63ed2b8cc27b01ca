import { ApplicationFailure } from '@temporalio/common';
import { AxiosError } from 'axios';
import type { z } from 'zod';

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
 * Runs an HTTP call and turns a transport failure (refused, reset, timed out) into a plain,
 * retryable `Error` that names the method and URL, instead of axios's bare `connect ECONNREFUSED`.
 */
export async function transport<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof AxiosError) throw new Error(describeAxiosError(err));
    throw err;
  }
}
