import type { NextFunction, Request, Response } from 'express';
import { AppError } from 'friend-chat/server';
import type { TokenService } from './tokens.ts';

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

export function requireAuth(tokens: TokenService) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) throw new AppError('UNAUTHORIZED', 'Missing bearer token');
    req.userId = tokens.verify(match[1]);
    next();
  };
}
