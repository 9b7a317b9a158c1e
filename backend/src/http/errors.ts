// Errors that carry the contract's codes (DESIGN.md, HTTP API: "Errors"). Services throw
// these; the HTTP error middleware and the socket ack helper translate them the same way.
import { ZodError } from 'zod';
import type { ErrorBody, ErrorCode } from '../realtime/events.ts';

const STATUS: Record<ErrorCode, number> = {
  VALIDATION: 400,
  UNAUTHORIZED: 401,
  NOT_FRIENDS: 403,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
  }
}

export const validation = (message: string, details?: unknown) => new AppError('VALIDATION', message, details);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);

function describeZod(err: ZodError): string {
  return err.issues
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .slice(0, 5)
    .join('; ');
}

/** Codes of errors raised when the database cannot be reached (pg, Prisma, PGlite). */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P03', 'P1001', 'P1002', 'P1017']);

function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const o = e as { code?: unknown; message?: unknown; cause?: unknown; name?: unknown };
    if (typeof o.code === 'string' && UNAVAILABLE_CODES.has(o.code)) return true;
    if (typeof o.message === 'string' && /connection terminated|Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect|Can't reach database/.test(o.message)) return true;
    if (o.name === 'DriverAdapterError' && typeof o.cause === 'object' && o.cause && (o.cause as { kind?: string }).kind === 'DatabaseNotReachable') return true;
    e = o.cause;
  }
  return false;
}

/** Maps any thrown value to an AppError; unknown errors become INTERNAL without leaking details. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return validation(describeZod(err), err.issues);
  const o = err as { code?: unknown; type?: unknown; status?: unknown };
  // body-parser: malformed JSON and oversized bodies.
  if (o?.type === 'entity.parse.failed') return validation('Malformed JSON body');
  if (o?.type === 'entity.too.large') return validation('Request body too large');
  if (o?.code === 'P2025') return notFound('Record');
  if (o?.code === 'P2002') return conflict('Already exists');
  if (isUnavailable(err)) return new AppError('UNAVAILABLE', 'The service is temporarily unavailable, try again');
  return new AppError('INTERNAL', 'Internal error');
}

export function errorBody(err: AppError): { error: ErrorBody } {
  return { error: { code: err.code, message: err.message } };
}
