// Opaque paging cursors: a position in (createdAt, id) order, base64url-encoded.
// Order is server time with ties broken by id (DESIGN.md, Rules), so two messages with the
// same timestamp still have a strict order and no page repeats or skips one.
import { validation } from '../http/errors.ts';

export interface Position {
  createdAt: Date;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * The last millisecond of year 9999. Later times are valid JavaScript dates, but they reach
 * PostgreSQL as extended years ("+033658-…") that it refuses, so such a cursor is bad input.
 */
const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
export const START: Position = { createdAt: new Date(0), id: '00000000-0000-0000-0000-000000000000' };

export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.createdAt.getTime()}:${p.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const raw = Buffer.from(cursor, 'base64url').toString('utf8');
  const m = /^(\d{1,15}):(.+)$/.exec(raw);
  if (!m || !UUID.test(m[2]!) || Number(m[1]) > MAX_TIME) throw validation('Invalid cursor');
  return { createdAt: new Date(Number(m[1])), id: m[2]! };
}

/** Prisma filter: rows strictly before (`lt`) or after (`gt`) a position. */
export function beyond(p: Position, dir: 'lt' | 'gt') {
  return { OR: [{ createdAt: { [dir]: p.createdAt } }, { createdAt: p.createdAt, id: { [dir]: p.id } }] };
}
