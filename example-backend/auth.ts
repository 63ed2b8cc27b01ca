import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

/**
 * `Authorization: Bearer <token>` for the admin routes. Digests are compared so the check takes
 * the same time whatever the length or prefix of the guess.
 */
export function requireBearer(token: string | undefined): RequestHandler {
  if (!token) return (_req, _res, next) => next();
  const expected = createHash('sha256').update(token).digest();
  return (req, res, next) => {
    const match = /^Bearer\s+(.+)$/i.exec(req.get('Authorization') ?? '');
    const given = createHash('sha256')
      .update(match ? match[1].trim() : '')
      .digest();
    if (match && timingSafeEqual(given, expected)) return next();
    res.set('WWW-Authenticate', 'Bearer').status(401).json({ error: 'missing or wrong admin token' });
  };
}
