// Who is asking: the host's `identify` port turns the bearer token into the host's user id.
// Kept in `res.locals`, so the module adds nothing to the host's Request type.
import type { RequestHandler, Response } from 'express';
import { toSession, type Identify } from '../ports.ts';
import { AppError, toAppError } from './errors.ts';

const KEY = 'friendChatUserId';

/** The user id `requireIdentity` found; only valid behind it. */
export function currentUser(res: Response): string {
  const id: unknown = res.locals[KEY];
  if (typeof id !== 'string') throw new AppError('UNAUTHORIZED', 'Not signed in');
  return id;
}

/**
 * 401 UNAUTHORIZED unless `Authorization: Bearer <token>` identifies a user (null or a throw:
 * no). A throw that says the database cannot be reached is 503 UNAVAILABLE instead: the session
 * may well be valid, and the client should retry rather than sign out.
 */
export function requireIdentity(identify: Identify): RequestHandler {
  return async (req, res, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
    let session: ReturnType<typeof toSession>;
    try {
      session = toSession(await identify(match[1]));
    } catch (err) {
      if (toAppError(err).code === 'UNAVAILABLE') throw err;
      session = null;
    }
    if (!session) throw new AppError('UNAUTHORIZED', 'Invalid token');
    res.locals[KEY] = session.userId;
    next();
  };
}
