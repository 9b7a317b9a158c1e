// Messages that carry an upload or a location (DESIGN.md, "Rich messages"). They are stored one
// by one rather than through the batch writer (writer.ts): each refers to an upload, and a
// statement that fails on one (an upload sent twice at once, or deleted meanwhile) must fail only
// that message, not a whole batch of others'. A group message is numbered in its group like any
// other (groups/seq.ts).
import type { Message } from '../generated/prisma/client.ts';
import type { Database, SqlFn } from '../db/database.ts';
import { storeNumbered } from '../groups/seq.ts';
import { AppError, conflict, notFound } from '../http/errors.ts';
import type { MessageKind, WireLocation } from '../realtime/events.ts';
import type { AttachmentService } from '../uploads/service.ts';
import { uuidv7 } from './ids.ts';
import { MESSAGE_COLUMNS } from './sql.ts';
import { outboxInsert, refusal, type Written } from './writer.ts';

export interface RichParts {
  attachmentId?: string;
  location?: WireLocation;
}

export interface RichDraft {
  fromUserId: string;
  /** A direct message's recipient, or null for a group message (`groupId`). */
  toUserId: string | null;
  groupId: string | null;
  content: string;
  clientId: string | null;
  kind: MessageKind;
  attachmentId: string | null;
  location: WireLocation | null;
  /** The message this one answers (checked already), or null. */
  replyToId?: string | null;
  /** Whether the host's `messageSent` hook wants it (an outbox row is stored with it). */
  hook?: boolean;
}

/** The SQLSTATE and constraint of a database error, raw from pg or PGlite. */
function dbError(err: unknown): { code?: string; constraint?: string } {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const o = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (typeof o.code === 'string' && /^[0-9A-Z]{5}$/.test(o.code)) return { code: o.code, constraint: typeof o.constraint === 'string' ? o.constraint : undefined };
    e = o.cause;
  }
  return {};
}

export function createRichMessages(db: Database, attachments: AttachmentService, opts: { outboxLeaseMs?: number | null } = {}) {
  const { outboxLeaseMs = null } = opts;
  const M = db.table('Message');
  const A = db.table('Attachment');
  // The message, and its upload marked sent, in one statement: both or neither. The foreign key
  // holds the upload's row while it runs, so the cleanup job cannot delete it underneath.
  const INSERT = `
    WITH ins AS (
      INSERT INTO ${M} (id, "fromUserId", "toUserId", "groupId", content, "clientId", kind, "attachmentId", location, "replyToId", seq)
      VALUES ($1::uuid, $2::text, $3::text, $4::uuid, $5::text, $6::text, $7::text, $8::uuid, $9::text::jsonb, $10::uuid, $11::bigint)
      ON CONFLICT ("fromUserId", "clientId") DO NOTHING
      RETURNING *
    ), sent AS (
      UPDATE ${A} a SET "sentAt" = ins."createdAt" FROM ins WHERE a.id = ins."attachmentId"
    )${outboxLeaseMs === null ? '' : `, ob AS (${outboxInsert(db, 12)})`}
    SELECT ${MESSAGE_COLUMNS} FROM ins`;

  return {
    /**
     * What the message will be, checked before anything is stored: the kind, and for an upload
     * that it is the sender's own and unsent (404 / 403 FORBIDDEN / 409 CONFLICT otherwise).
     */
    async kindOf(from: string, parts: RichParts): Promise<MessageKind> {
      if (parts.attachmentId) return (await attachments.claim(from, parts.attachmentId)).kind as MessageKind;
      return parts.location ? 'location' : 'text';
    },

    async write(d: RichDraft): Promise<Written> {
      const id = uuidv7();
      const insert = (sql: SqlFn, seq: number | null) =>
        sql<Message>(INSERT, [
          id,
          d.fromUserId,
          d.toUserId,
          d.groupId,
          d.content,
          d.clientId,
          d.kind,
          d.attachmentId,
          d.location === null ? null : JSON.stringify(d.location),
          d.replyToId ?? null,
          seq,
          ...(outboxLeaseMs === null ? [] : [outboxLeaseMs, d.hook ? [id] : []]),
        ]);
      let rows: Message[];
      let refused: AppError | undefined;
      try {
        if (d.groupId === null) rows = await insert(db.sql, null);
        else {
          const stored = await storeNumbered(db, [{ id, groupId: d.groupId, fromUserId: d.fromUserId }], (sql, [n]) => insert(sql, n!.seq));
          rows = stored.rows;
          const why = stored.refused.values().next().value;
          refused = why && refusal(why);
        }
      } catch (err) {
        const { code, constraint } = dbError(err);
        // Another send of the same upload got there first.
        if (code === '23505' && constraint === 'Message_attachmentId_key') throw conflict('This upload was already sent; upload the file again to send it again');
        // The upload was deleted meanwhile (never sent within its time).
        if (code === '23503') throw notFound('Attachment');
        throw err;
      }
      if (rows[0]) return { message: rows[0], created: true };
      // The clientId was already stored: the first message is the answer (also to a sender who
      // is no longer a member).
      const first =
        d.clientId === null ? null : await db.prisma.message.findUnique({ where: { fromUserId_clientId: { fromUserId: d.fromUserId, clientId: d.clientId } } });
      if (!first) throw refused ?? new AppError('INTERNAL', 'message was neither inserted nor found');
      return { message: first, created: false };
    },
  };
}
export type RichMessages = ReturnType<typeof createRichMessages>;
