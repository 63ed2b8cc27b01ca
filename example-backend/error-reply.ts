import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError, InjectedFailure } from './errors';

/**
 * Every error becomes a JSON `{ error, field? }`. A client's mistake (bad escape, bad encoding,
 * body that does not parse) is a 4xx that names it; only the server's own faults are a 500.
 */

/** The shape of the errors body-parser (http-errors) raises. */
interface HttpError extends Error {
  type?: string;
  status?: number;
  expose?: boolean;
  limit?: number;
  charset?: string;
  code?: string;
}

const MAX_ECHO = 200;
const echo = (text: string) => JSON.stringify(text.length > MAX_ECHO ? `${text.slice(0, MAX_ECHO)}…` : text);

/**
 * Express decodes route parameters itself and answers a broken escape with a bare error; checking
 * the whole path first turns that into one 400 naming the path, whichever route it was meant for.
 */
export const requireDecodablePath: RequestHandler = (req, _res, next) => {
  try {
    decodeURIComponent(req.path);
  } catch {
    return next(new ApiError(400, `path: malformed percent-escape in ${echo(req.path)}`, 'path'));
  }
  next();
};

/** A body-parser or zlib error as the reply it deserves, or undefined when it is not the client's. */
function fromBodyError(error: HttpError, encoding: string): ApiError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ApiError(400, `body: not valid JSON (${error.message})`, 'body');
    case 'entity.too.large':
      return new ApiError(413, `body: too large (limit ${error.limit} bytes)`, 'body');
    case 'charset.unsupported':
      return new ApiError(
        415,
        `Content-Type: unsupported charset ${echo((error.charset ?? '').toUpperCase())} (JSON is UTF-8)`,
        'Content-Type',
      );
    case 'encoding.unsupported':
      return new ApiError(415, `Content-Encoding: unsupported ${echo(encoding)}`, 'Content-Encoding');
    case 'request.aborted':
      return new ApiError(400, 'body: request aborted before the body was complete', 'body');
    case 'request.size.invalid':
      return new ApiError(400, 'body: length does not match Content-Length', 'body');
  }
  // zlib's errors (Z_DATA_ERROR, Z_BUF_ERROR…) come through body-parser untyped.
  if (error.code?.startsWith('Z_') || error.code === 'ERR_ZLIB_INITIALIZATION_FAILED') {
    return new ApiError(
      400,
      `Content-Encoding: body is not valid ${encoding} data (${error.message})`,
      'Content-Encoding',
    );
  }
  if (error.status && error.status >= 400 && error.status < 500 && error.expose !== false) {
    return new ApiError(error.status, error.message);
  }
  return undefined;
}

/** The app's last handler. Express recognises an error handler by its four parameters. */
export function errorHandler(log: (line: string) => void): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (req.path.startsWith('/api/') && !res.get('X-Served-By')) res.set('X-Served-By', 'legacy');
    const encoding = String(req.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    const reply =
      error instanceof ApiError
        ? error
        : error instanceof InjectedFailure
          ? new ApiError(500, error.message)
          : error instanceof Error
            ? fromBodyError(error as HttpError, encoding)
            : undefined;
    if (reply) {
      res.status(reply.status).json(reply.toBody());
      return;
    }
    log(
      `${req.method} ${req.originalUrl}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    res.status(500).json({ error: 'internal error' });
  };
}

/** Node's parser codes for a request that is not HTTP, as a sentence. */
function describeClientError(code: string | undefined): { status: number; error: string } {
  if (code === 'HPE_HEADER_OVERFLOW')
    return { status: 431, error: 'request headers too large (limit 16 KB in all)' };
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADER_TIMEOUT')
    return { status: 408, error: 'request timeout: headers or body not received in time' };
  return { status: 400, error: `malformed HTTP request (${code ?? 'unparseable'})` };
}

/**
 * `server.on('clientError')`: without it Node answers a request it cannot parse with a bare
 * status line; this way even those get the JSON error every other reply has.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const { status, error: message } = describeClientError(error.code);
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      // The path is unknown here; what no implementation could take, the legacy monolith answers.
      'X-Served-By: legacy\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/**
 * The last handler of a path: any method not served above it is a 405 listing the ones that are
 * (an `OPTIONS` asks for exactly that list). Without it a wrong method reads "no route", as if the
 * path did not exist.
 */
export function methodNotAllowed(shown: string, allowed: readonly string[]): RequestHandler {
  const list = allowed.join(', ');
  return (req, res, next) => {
    res.set('Allow', allowed.includes('GET') ? `${list}, HEAD, OPTIONS` : `${list}, OPTIONS`);
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next(new ApiError(405, `method ${req.method} not allowed on ${shown} (allowed: ${list})`));
  };
}
