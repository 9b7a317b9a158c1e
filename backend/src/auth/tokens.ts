// JWT (HS256 only: `alg: none` and other algorithms are rejected on verify).
import { createSecretKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import { AppError } from 'friend-chat/server';

export interface TokenService {
  sign(userId: string): string;
  /** Returns the user id, or throws UNAUTHORIZED. */
  verify(token: string): string;
  /** When a token (already verified) stops being valid, in ms since the epoch; null if never. */
  expiresAt(token: string): number | null;
}

export function createTokenService(secret: string, expiresIn: string): TokenService {
  // A KeyObject once, instead of a string that jsonwebtoken re-parses (trying it as a public
  // and a private key first) on every sign and verify: a socket handshake storm paid for that.
  const key = createSecretKey(Buffer.from(secret, 'utf8'));
  return {
    sign: (userId) => jwt.sign({}, key, { algorithm: 'HS256', subject: userId, expiresIn } as jwt.SignOptions),
    verify(token) {
      try {
        const payload = jwt.verify(token, key, { algorithms: ['HS256'] });
        if (typeof payload === 'string' || typeof payload.sub !== 'string') throw new Error('no subject');
        return payload.sub;
      } catch (err) {
        const expired = err instanceof jwt.TokenExpiredError;
        throw new AppError('UNAUTHORIZED', expired ? 'Token expired' : 'Invalid token');
      }
    },
    expiresAt(token) {
      const payload = jwt.decode(token);
      return payload && typeof payload === 'object' && typeof payload.exp === 'number' ? payload.exp * 1000 : null;
    },
  };
}

/**
 * JWT_SECRET when set; otherwise a key generated once and kept beside the data, so a restart
 * keeps people logged in. With no data directory (in-memory database) the key lives in memory.
 */
export function resolveJwtSecret(configured: string | undefined, dataDir: string | null): string {
  if (configured) return configured;
  if (!dataDir) return randomBytes(32).toString('hex');
  const file = path.join(dataDir, 'jwt-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
