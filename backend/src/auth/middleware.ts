import type { NextFunction, Request, Response } from 'express';
import { AppError } from 'friend-chat/server';

declare module 'express-serve-static-core' {
  interface Request {
    userId?: string;
  }
}

/** The authenticated user's id; only valid behind requireAuth. */
export function currentUser(req: Request): string {
  if (!req.userId) throw new AppError('UNAUTHORIZED', 'Not signed in');
  return req.userId;
}

/**
 * `session(token)` answers the user id of a valid session (a valid token of a user who still
 * exists) or null; the same check the chat module's `identify` makes, so a token of a deleted
 * user is refused on every route, not only the chat's.
 */
export function requireAuth(session: (token: string) => Promise<string | null>) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
    const userId = await session(match[1]);
    if (!userId) throw new AppError('UNAUTHORIZED', 'This account no longer exists');
    req.userId = userId;
    next();
  };
}
