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

/** A caption: as `Content`, but may be empty (a message with an attachment or a location). */
export const Caption = z
  .string()
  .trim()
  .max(2000, 'at most 2000 characters')
  .refine(noNul, 'must not contain NUL characters')
  .refine(wellFormed, 'must be well-formed text (no lone surrogates)');

/** A place: latitude −90…90, longitude −180…180, an optional label of at most 100 characters. */
export const Location = z.strictObject({
  lat: z.number().min(-90, 'latitude must be between -90 and 90').max(90, 'latitude must be between -90 and 90'),
  lng: z.number().min(-180, 'longitude must be between -180 and 180').max(180, 'longitude must be between -180 and 180'),
  label: Caption.pipe(z.string().max(100, 'at most 100 characters'))
    .optional()
    .transform((l) => l || undefined),
});

/**
 * What a send carries (DESIGN.md, "Rich messages"): text (`content`, 1–2000 characters), or an
 * upload (`attachmentId`) or a location with an optional caption. Not both an upload and a location.
 */
const sendFields = { content: Caption.default(''), attachmentId: uuid.optional(), location: Location.optional(), replyToId: uuid.optional() };
const bodyRule = (v: { content: string; attachmentId?: string; location?: unknown }, ctx: z.RefinementCtx) => {
  if (v.attachmentId !== undefined && v.location !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['location'], message: 'a message carries an attachment or a location, not both' });
  } else if (v.attachmentId === undefined && v.location === undefined && v.content.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['content'], message: 'must not be empty' });
  }
};
export const SendBody = z.strictObject({ ...sendFields, clientId: ClientId.optional() }).superRefine(bodyRule);
/** To a friend (`to`) or to a group (`groupId`); exactly one of them. */
export const SendEvent = z
  .union([
    z.strictObject({ to: userId, ...sendFields, clientId: ClientId }),
    z.strictObject({ groupId: uuid, ...sendFields, clientId: ClientId }),
  ])
  .superRefine(bodyRule);
export const ReadEvent = z.union([z.strictObject({ peerId: userId }), z.strictObject({ groupId: uuid })]);
export const TypingEvent = z.union([z.strictObject({ to: userId, typing: z.boolean() }), z.strictObject({ groupId: uuid, typing: z.boolean() })]);
/** A socket payload is JSON, so a limit is a number there; only a query string needs coercing. */
const limitValue = z.number().int().min(1).max(100).default(50);

export const SyncQuery = z.object({ after: Cursor.optional(), limit: limitQuery });
export const SyncEvent = z.strictObject({ after: Cursor.optional(), limit: limitValue });
export const PresenceListEvent = z.strictObject({});
export const HistoryQuery = z.object({ before: Cursor.optional(), limit: limitQuery });
