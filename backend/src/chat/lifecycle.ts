// The message lifecycle after a send (DESIGN.md, "Message lifecycle"): delivered receipts,
// edits, replies and reactions, and the wire fields they add. Direct and group messages alike;
// the HTTP routes and the socket handlers both call this, so they cannot disagree.
//
// Every change bumps the row's `changedAt` (database triggers, migration
// 20261220000000_message_lifecycle) but a receipt, which is a row of "Delivery" (delivered.ts,
// migration 20261226000000_delivery_receipts); sync reads both in time order: a client that was
// away gets each changed message once, in its latest state.
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { Bus } from '../realtime/bus.ts';
import type { MessageKind, WireMessage, WireReaction, WireReplyTo } from '../realtime/events.ts';
import { groupAccess, notMember } from '../groups/sql.ts';
import { groupRoom } from '../groups/rooms.ts';
import { MESSAGE_COLUMNS, type DeliveredMessage } from './sql.ts';
import { MAX_EMOJI_PER_MESSAGE, reactionsOf } from './reactions.ts';
import { createDeliveredAcks, type Stored } from './delivered.ts';

/** Rows on the wire, attachments with fresh urls (the attachment service's `present`). */
export type PresentRows = (rows: Message[]) => Promise<WireMessage[]>;

export interface PresentOptions {
  /** Whose `reactions[].mine` (the receiver of the answer); none: every `mine` false. */
  viewer?: string;
  /** Messages just stored: they have no reactions yet, so none are looked up. */
  fresh?: boolean;
  /** The reactions of these rows, read already (with the rows): none are looked up. */
  reactions?: Map<string, WireReaction[]>;
}
/** Rows on the wire with every lifecycle field: `replyTo` and `reactions` for the page in one query each. */
export type Present = (rows: Message[], opts?: PresentOptions) => Promise<WireMessage[]>;

export interface LifecycleDeps {
  db: Database;
  bus: Bus;
  present: PresentRows;
  /** EDIT_WINDOW_SECONDS: how long after sending its sender may edit a message (default 900). */
  editWindowSeconds?: number;
  /**
   * What an edit's new content becomes before it is stored: the content filter's `apply` (mask,
   * or throw CONTENT_REJECTED). The single place an edit's text passes through; identity by default.
   */
  filterContent?: (text: string) => string;
  /** How long a delivered ack waits for others to be stored with it, in ms (default 5; delivered.ts). */
  deliveredWindowMs?: number;
  /** What failed outside any caller's answer (a receipt push). */
  onError?: (err: unknown) => void;
}

/** A reply's excerpt: at most this many characters (code points) of the original. */
const EXCERPT_LENGTH = 100;

/** At most EXCERPT_LENGTH code points, never half a surrogate pair. */
export const excerptOf = (text: string) => Array.from(text).slice(0, EXCERPT_LENGTH).join('');

/** The conversation a message belongs to: its group, or the pair of users (direct chat). */
const sameConversation = (a: Message, b: { fromUserId: string; toUserId: string | null; groupId: string | null }) =>
  a.groupId !== null
    ? a.groupId === b.groupId
    : b.groupId === null &&
      a.messageType === 'CHAT' &&
      ((a.fromUserId === b.fromUserId && a.toUserId === b.toUserId) || (a.fromUserId === b.toUserId && a.toUserId === b.fromUserId));

export function createLifecycle(deps: LifecycleDeps) {
  const { db, bus, editWindowSeconds = 900, filterContent = (text: string) => text } = deps;
  const M = db.table('Message');
  const R = db.table('Reaction');
  const GM = db.table('GroupMember');
  const A = db.table('Attachment');
  const D = db.table('Delivery');
  const acks = createDeliveredAcks(db, bus, { windowMs: deps.deliveredWindowMs, onError: deps.onError });

  const load = async (id: string): Promise<Message | null> => (await db.sql<Message>(`SELECT ${MESSAGE_COLUMNS} FROM ${M} WHERE id = $1::uuid`, [id]))[0] ?? null;

  /**
   * Whether `me` may read `m` (not recalled): a party of a direct message or the recipient of a
   * notification; in a group, a member (current or former) from the time it was sent. 'former':
   * readable, but the caller left the group since.
   */
  async function access(me: string, m: Message | null): Promise<'current' | 'former' | null> {
    if (!m || m.deletedAt) return null;
    if (m.groupId === null) return m.fromUserId === me || m.toUserId === me ? 'current' : null;
    const { member } = await groupAccess(db, m.groupId, me);
    if (!member || m.createdAt < member.joinedAt || (member.leftAt !== null && m.createdAt > member.leftAt)) return null;
    return member.leftAt === null ? 'current' : 'former';
  }

  /** Who is told about a change of `m`: both sides of a direct message, or the group's members. */
  const audience = (m: Pick<Message, 'fromUserId' | 'toUserId' | 'groupId'>): string | string[] =>
    m.groupId !== null ? groupRoom(m.groupId) : [m.fromUserId, m.toUserId].filter((u): u is string => u !== null);

  /** The originals of these replies, as the replies show them. */
  async function originsOf(ids: string[]): Promise<Map<string, WireReplyTo>> {
    if (ids.length === 0) return new Map();
    const rows = await db.sql<{ id: string; fromUserId: string | null; kind: MessageKind; content: string; deleted: boolean; name: string | null; label: string | null }>(
      `SELECT m.id, m."fromUserId", m.kind, m.content, m."deletedAt" IS NOT NULL AS deleted, a.name, m.location->>'label' AS label
       FROM ${M} m LEFT JOIN ${A} a ON a.id = m."attachmentId" WHERE m.id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        { id: r.id, fromUserId: r.fromUserId, kind: r.kind, recalled: r.deleted, excerpt: r.deleted ? null : excerptOf(r.content || r.name || r.label || '') },
      ]),
    );
  }

  /** When these messages were delivered (those without a receipt are left out). */
  async function receiptsOf(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await db.sql<{ messageId: string; deliveredAt: Date }>(
      `SELECT "messageId", "deliveredAt" AT TIME ZONE 'UTC' AS "deliveredAt" FROM ${D} WHERE "messageId" = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.messageId, r.deliveredAt.toISOString()]));
  }

  const present: Present = async (rows, opts = {}) => {
    const live = rows.filter((r) => !r.deletedAt);
    // Rows read with their receipt (sync's) carry `deliveredAt`; the others' is looked up (a
    // message just stored has none). Only a chat message from a user is ever delivered.
    const unknown = opts.fresh ? [] : rows.filter((r) => (r as Partial<DeliveredMessage>).deliveredAt === undefined && r.fromUserId !== null && r.messageType === 'CHAT');
    const [wire, origins, reactions, receipts] = await Promise.all([
      deps.present(rows),
      originsOf([...new Set(live.flatMap((r) => (r.replyToId ? [r.replyToId] : [])))]),
      opts.fresh ? new Map<string, WireReaction[]>() : opts.reactions ?? reactionsOf(db, live.map((r) => r.id), opts.viewer ?? null),
      receiptsOf(unknown.map((r) => r.id)),
    ]);
    return wire.map((w, i) => {
      const r = rows[i]!;
      w.deliveredAt ??= receipts.get(r.id) ?? null;
      if (r.deletedAt) {
        // Recalled: nothing of what it carried (toWire already emptied content and location).
        w.attachment = null;
        return w;
      }
      w.replyTo = r.replyToId ? (origins.get(r.replyToId) ?? null) : null;
      w.reactions = reactions.get(r.id) ?? [];
      return w;
    });
  };

  /** Replies show their original: when it is edited or recalled they change too (sync carries them again). */
  const touchReplies = (messageId: string) => db.sql(`UPDATE ${M} SET "replyToId" = "replyToId" WHERE "replyToId" = $1::uuid`, [messageId]);

  return {
    present,
    touchReplies,

    /**
     * A reply's target, checked before anything is stored: a message of the same conversation
     * that the sender can read and that is not recalled; anything else is "not found".
     */
    async checkReply(draft: { fromUserId: string; toUserId: string | null; groupId: string | null }, replyToId: string): Promise<void> {
      const original = await load(replyToId);
      if (!original || !sameConversation(original, draft) || !(await access(draft.fromUserId, original))) throw notFound('Message to reply to');
    },

    /**
     * My client received these messages. Only messages to me count (direct: `toUserId` me; group:
     * I am a current member and not the sender), and any other id refuses the whole batch (404,
     * nothing stored). `deliveredAt` is stored once per message, the first acknowledgement
     * wins; the senders (and, in a group, its members) are told, and my other sockets: not the
     * acking one (`socketId`), which gets what this ack stored as the answer. Acks of every user
     * on this node are coalesced: one statement per few milliseconds (delivered.ts).
     */
    delivered: (me: string, messageIds: string[], socketId?: string): Promise<Stored> => acks.ack(me, messageIds, socketId),

    /** The node is closing (before its database): the delivered acks queued are stored and answered. */
    close: (): Promise<void> => acks.close(),

    /**
     * The sender edits a text message of theirs, within the edit window. Both sides (or the
     * group's members) get `chat:edited`; so do replies' excerpts, on the next sync.
     */
    async edit(me: string, messageId: string, content: string): Promise<WireMessage> {
      // The content filter applies to edits here, like to sends.
      const text = filterContent(content);
      const [row] = await db.sql<Message>(
        `UPDATE ${M} m SET content = $3::text, "editedAt" = now() AT TIME ZONE 'UTC'
         WHERE id = $1::uuid AND "fromUserId" = $2::text AND "messageType" = 'CHAT' AND kind = 'text' AND "deletedAt" IS NULL
           AND "createdAt" > (now() AT TIME ZONE 'UTC') - make_interval(secs => $4::int)
           AND ("groupId" IS NULL OR EXISTS (SELECT 1 FROM ${GM} gm WHERE gm."groupId" = m."groupId" AND gm."userId" = $2::text AND gm."leftAt" IS NULL))
         RETURNING ${MESSAGE_COLUMNS}`,
        [messageId, me, text, editWindowSeconds],
      );
      if (!row) {
        // Why not, in the contract's words: the common path above asked nothing else.
        const m = await load(messageId);
        const can = await access(me, m);
        if (!m || !can) throw notFound('Message');
        if (m.fromUserId !== me) throw new AppError('FORBIDDEN', 'Only the sender can edit this message');
        if (can === 'former') throw notMember();
        if (m.kind !== 'text') throw new AppError('VALIDATION', 'Only text messages can be edited');
        throw new AppError('EDIT_WINDOW_CLOSED', `A message can be edited only within ${editWindowSeconds} seconds of sending`);
      }
      await touchReplies(row.id);
      const [message] = await present([row], { viewer: me });
      bus.emit(audience(row), 'chat:edited', { message: message! });
      return message!;
    },

    /**
     * Adds (`on`) or takes back my reaction `emoji` (normalized already) to a chat message I can
     * read (in a group: as a current member). At most MAX_EMOJI_PER_MESSAGE distinct emoji per
     * message: the next one answers CONFLICT. Doing what is already done changes nothing and
     * pushes nothing. Answers the message's reactions as I see them.
     */
    async react(me: string, messageId: string, emoji: string, on: boolean): Promise<{ reactions: WireReaction[] }> {
      const m = await load(messageId);
      const can = await access(me, m);
      if (!m || !can) throw notFound('Message');
      if (can === 'former') throw notMember();
      if (m.messageType !== 'CHAT') throw new AppError('VALIDATION', 'Only chat messages take reactions');
      let changed: boolean;
      if (on) {
        changed = await db.transaction(async (sql) => {
          // The message's row, locked: two new emoji at once cannot both be the 20th.
          await sql(`SELECT 1 FROM ${M} WHERE id = $1::uuid FOR NO KEY UPDATE`, [messageId]);
          const [state] = await sql<{ inserted: boolean; full: boolean }>(
            `WITH present AS (SELECT DISTINCT emoji FROM ${R} WHERE "messageId" = $1::uuid),
             ins AS (
               INSERT INTO ${R} ("messageId", "userId", emoji)
               SELECT $1::uuid, $2::text, $3::text
               WHERE EXISTS (SELECT 1 FROM present WHERE emoji = $3::text) OR (SELECT count(*) FROM present) < $4::int
               ON CONFLICT DO NOTHING RETURNING 1
             )
             SELECT EXISTS (SELECT 1 FROM ins) AS inserted,
                    NOT EXISTS (SELECT 1 FROM present WHERE emoji = $3::text) AND (SELECT count(*) FROM present) >= $4::int AS full`,
            [messageId, me, emoji, MAX_EMOJI_PER_MESSAGE],
          );
          if (state!.full) throw new AppError('CONFLICT', `A message takes at most ${MAX_EMOJI_PER_MESSAGE} different emoji`);
          return state!.inserted;
        });
      } else {
        const gone = await db.sql(`DELETE FROM ${R} WHERE "messageId" = $1::uuid AND "userId" = $2::text AND emoji = $3::text RETURNING 1`, [messageId, me, emoji]);
        changed = gone.length > 0;
      }
      if (changed) bus.emit(audience(m), 'chat:reaction', { messageId, emoji, userId: me, on });
      return { reactions: (await reactionsOf(db, [messageId], me)).get(messageId) ?? [] };
    },
  };
}
export type Lifecycle = ReturnType<typeof createLifecycle>;
