// Input schemas for the chat edge, shared by the HTTP routes and the socket handlers.
import { z } from 'zod';
import { limitQuery, userId, uuid } from '../http/validate.ts';

// PostgreSQL cannot store a NUL character in text. Refused here, at the edge: a batched insert
// that met one would fail every message in its batch, not only the offending one.
export const noNul = (s: string) => !s.includes('\u0000');
// A lone surrogate (ill-formed UTF-16) cannot travel as UTF-8: it is replaced on the way into
// the database, so the stored text differs from what was sent, and a resend of such a
// clientId would not find its first message (idempotency broken). Refused at the edge too.
export const wellFormed = (s: string) => !/\p{Surrogate}/u.test(s);

/** Trimmed, 1–2000 characters, plain text (DESIGN.md, Rules). */
export const Content = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(2000, 'at most 2000 characters')
  .refine(noNul, 'must not contain NUL characters')
  .refine(wellFormed, 'must be well-formed text (no lone surrogates)');
export const ClientId = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .refine(noNul, 'must not contain NUL characters')
  .refine(wellFormed, 'must be well-formed text (no lone surrogates)');
export const Cursor = z.string().min(1).max(200);

export const SendBody = z.strictObject({ content: Content, clientId: ClientId.optional() });
/** To a friend (`to`) or to a group (`groupId`); exactly one of them. */
export const SendEvent = z.union([
  z.strictObject({ to: userId, content: Content, clientId: ClientId }),
  z.strictObject({ groupId: uuid, content: Content, clientId: ClientId }),
]);
export const ReadEvent = z.union([z.strictObject({ peerId: userId }), z.strictObject({ groupId: uuid })]);
export const TypingEvent = z.union([z.strictObject({ to: userId, typing: z.boolean() }), z.strictObject({ groupId: uuid, typing: z.boolean() })]);
/** A socket payload is JSON, so a limit is a number there; only a query string needs coercing. */
const limitValue = z.number().int().min(1).max(100).default(50);

export const SyncQuery = z.object({ after: Cursor.optional(), limit: limitQuery });
export const SyncEvent = z.strictObject({ after: Cursor.optional(), limit: limitValue });
export const PresenceListEvent = z.strictObject({});
export const HistoryQuery = z.object({ before: Cursor.optional(), limit: limitQuery });
