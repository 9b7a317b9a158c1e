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
  TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  NOT_MEMBER: 403,
  GROUP_FULL: 400,
  CONTENT_REJECTED: 422,
  EDIT_WINDOW_CLOSED: 409,
};

export class AppError extends Error {
  readonly status: number;
  /** When set, HTTP answers carry it as `Retry-After` (seconds). */
  readonly retryAfterSeconds?: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'AppError';
    this.status = STATUS[code];
    if (options.retryAfterSeconds !== undefined) this.retryAfterSeconds = Math.max(1, Math.ceil(options.retryAfterSeconds));
  }
}

export const validation = (message: string, details?: unknown) => new AppError('VALIDATION', message, details);
export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
export const forbidden = (message: string) => new AppError('FORBIDDEN', message);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const tooLarge = (message: string) => new AppError('TOO_LARGE', message);
export const rateLimited = (message: string, retryAfterSeconds: number) =>
  new AppError('RATE_LIMITED', message, undefined, { retryAfterSeconds });

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

/**
 * PostgreSQL refusing a value it cannot store as text: a NUL character (22021 "invalid byte
 * sequence", 22P05 "untranslatable character" in JSON). That is bad input, not a server fault.
 */
const INVALID_TEXT_CODES = new Set(['22021', '22P05']);

/** The SQLSTATE behind an error, raw from the driver or wrapped by Prisma's driver adapter. */
function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { code?: unknown; meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } }; cause?: unknown };
    const wrapped = o.meta?.driverAdapterError?.cause?.originalCode;
    if (typeof wrapped === 'string') return wrapped;
    const original = (o as { originalCode?: unknown }).originalCode;
    if (typeof original === 'string') return original;
    if (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code)) return o.code;
    e = o.cause;
  }
  return undefined;
}

/** Maps any thrown value to an AppError; unknown errors become INTERNAL without leaking details. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return validation(describeZod(err), err.issues);
  const o = err as { code?: unknown; type?: unknown; status?: unknown };
  // body-parser: malformed JSON and oversized bodies.
  if (o?.type === 'entity.parse.failed') return validation('Malformed JSON body');
  if (o?.type === 'entity.too.large') return validation('Request body too large');
  if (o?.type === 'encoding.unsupported') return validation('Unsupported Content-Encoding (use gzip, deflate, br or none)');
  if (o?.type === 'charset.unsupported') return validation('Unsupported charset (use utf-8)');
  // Any other client error of the body parser, such as a compressed body that does not
  // decompress (body-parser marks it 400 and exposes it).
  if (o?.status === 400 && (o as { expose?: unknown }).expose === true) return validation('Malformed request body');
  if (o?.code === 'P2025') return notFound('Record');
  if (o?.code === 'P2002') return conflict('Already exists');
  if (isUnavailable(err)) return new AppError('UNAVAILABLE', 'The service is temporarily unavailable, try again');
  if (INVALID_TEXT_CODES.has(sqlState(err) ?? '')) return validation('Text must not contain NUL characters');
  return new AppError('INTERNAL', 'Internal error');
}

export function errorBody(err: AppError): { error: ErrorBody } {
  return { error: { code: err.code, message: err.message } };
}
