import express, { type RequestHandler } from 'express';
import { ApiError } from './errors';

/** The encodings body-parser can inflate; anything else is refused before a byte is read. */
export const BODY_ENCODINGS = ['identity', 'gzip', 'deflate'] as const;

/** How many bytes the body had once inflated; set by the parser's `verify` hook. */
const BODY_BYTES = Symbol('bodyBytes');
type Counted = { [BODY_BYTES]?: number };

function contentTypeOf(raw: string | undefined): string {
  return raw === undefined || raw.trim() === '' ? 'none' : JSON.stringify(raw.trim().slice(0, 100));
}

/**
 * The JSON body of a route that takes one. express.json alone skips a body whose content type is
 * not JSON and a missing body, leaving `{}` behind: for a patch route that is a 200 that changed
 * nothing. Here a missing or empty body is a 400 and a body of another type a 415, each naming
 * what was wrong; parse failures go to the app's error handler, which names them too.
 */
export function jsonBody(limitBytes: number): RequestHandler[] {
  const check: RequestHandler = (req, _res, next) => {
    const hasBody =
      req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
    if (!hasBody) return next(new ApiError(400, 'body: is required (a JSON object)', 'body'));
    const type = req.headers['content-type'];
    if (!type || !req.is(['application/json', '+json'])) {
      return next(
        new ApiError(
          415,
          `Content-Type: must be application/json (got ${contentTypeOf(type)})`,
          'Content-Type',
        ),
      );
    }
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!(BODY_ENCODINGS as readonly string[]).includes(encoding)) {
      return next(
        new ApiError(
          415,
          `Content-Encoding: unsupported ${JSON.stringify(encoding.slice(0, 100))} (use gzip, deflate or identity)`,
          'Content-Encoding',
        ),
      );
    }
    next();
  };
  const parse = express.json({
    limit: limitBytes,
    strict: false,
    // `check` already refused every other type.
    type: () => true,
    verify: (req, _res, buf) => {
      (req as Counted)[BODY_BYTES] = buf.length;
    },
  });
  // A `Content-Length: 0` or a chunked body of nothing: body-parser turns both into `{}`.
  const nonEmpty: RequestHandler = (req, _res, next) => {
    if (!(req as Counted)[BODY_BYTES])
      return next(new ApiError(400, 'body: is required (a JSON object)', 'body'));
    next();
  };
  return [check, parse, nonEmpty];
}
