// messageService: the only place that knows the chat rules (DESIGN.md, Rules). The HTTP
// routes and the socket handlers both call it, so they cannot disagree.
import type { Message, PrismaClient } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { Bus } from '../realtime/bus.ts';
import type { RateLimiter } from '../realtime/rateLimiter.ts';
import type { ConversationEntry, SyncPage, WireMessage } from '../realtime/events.ts';
import type { ChatUser, FriendGraph, UserDirectory } from '../ports.ts';
import type { HookOutbox } from './outbox.ts';
import { decodeCursor, encodeCursor, START, type Position } from './cursor.ts';
import type { UnreadService } from './unread.ts';
import { createMessageWriter } from './writer.ts';
import { historyRows, syncHorizon, syncHorizonPast, syncPage } from './sql.ts';
import { deletedUser, isDeletedUserId } from './deletedUsers.ts';
import { groupAccess, notMember } from '../groups/sql.ts';
import { recallGroupMessage } from '../groups/seq.ts';
import { groupRoom } from '../groups/rooms.ts';
import type { RichMessages, RichParts } from './rich.ts';
import type { AttachmentService } from '../uploads/service.ts';
import { filterSendText, noContentFilter, type ContentFilter } from './contentFilter.ts';
import type { Lifecycle, Present } from './lifecycle.ts';

export interface MessageServiceDeps {
  db: Database;
  bus: Bus;
  friends: FriendGraph;
  users: UserDirectory;
  rateLimiter: RateLimiter;
  unread: UnreadService;
  /**
   * Runs the host's `messageSent` hook after the answer (outbox.ts); its writes' outbox rows go
   * with each message. None: no hook.
   */
  outbox?: Pick<HookOutbox, 'enqueue' | 'leaseMs' | 'wants'> | null;
  onError?: (err: unknown) => void;
  /** Uploads and locations in messages; attachments on the wire with fresh signed urls. */
  rich: RichMessages;
  attachments: Pick<AttachmentService, 'discard'> & { present: Present };
  /** Replies and what recalls change of them (lifecycle.ts). */
  lifecycle: Pick<Lifecycle, 'checkReply' | 'touchReplies'>;
  /** Masks or rejects listed words in what users write, before it is stored (default: none). */
  filter?: ContentFilter;
}

/** Where a message goes: a friend (`to`), or a group the sender is a member of (`groupId`). */
export type SendTarget = { to: string; groupId?: undefined } | { groupId: string; to?: undefined };

/** `content` may be empty when the message carries an attachment or a location (a caption otherwise). */
export type SendInput = SendTarget &
  RichParts & {
    from: string;
    content: string;
    clientId?: string;
    /** The message this one answers: one of the same conversation (else 404, nothing stored). */
    replyToId?: string;
    /** The socket that sent it: it gets the ack, the sender's other tabs get `chat:message`. */
    originSocketId?: string;
    /**
     * When the send arrived (ms); the rate limit counts sends by arrival, not by when the checks
     * before it finished. Default: when `send` is called, which the HTTP route and the socket
     * handler both do as the request arrives.
     */
    receivedAt?: number;
    /** false: the host's own code sends (`chat.send`), not the user's client; no rate-limit token is taken. */
    rateLimited?: boolean;
  };

const position = (m: Message) => ({ createdAt: m.createdAt, id: m.id });

/** The public fields of a host's user, whatever else its object carries. */
export const toChatUser = (u: ChatUser): ChatUser => ({
  id: u.id,
  username: u.username,
  displayName: u.displayName,
  avatarUrl: u.avatarUrl ?? null,
});

export function createMessageService(deps: MessageServiceDeps) {
  const { db, bus, friends, users, rateLimiter, unread, outbox = null, onError = () => {}, rich, attachments, lifecycle, filter = noContentFilter } = deps;
  const present = attachments.present;
  const prisma: PrismaClient = db.prisma;

  const userExists = async (id: string) => (await users.byIds([id])).some((u) => u.id === id);
  /** A conversation partner: a user of the host's, or one it deleted (whose history stays readable). */
  const peerExists = async (id: string) => isDeletedUserId(id) || (await userExists(id));

  async function findByClientId(from: string, clientId: string): Promise<Message | null> {
    return prisma.message.findUnique({ where: { fromUserId_clientId: { fromUserId: from, clientId } } });
  }

  /**
   * A resend of a stored clientId returns the first message. It pushes it again only when its
   * push never went out (the node that stored it died before publishing it: bus.wasPushed), to
   * the same sockets as the first push would have reached but the resending one.
   */
  async function resent(existing: Message, target: SendTarget & { originSocketId?: string }): Promise<{ message: WireMessage; created: false }> {
    const same = target.groupId !== undefined ? existing.groupId === target.groupId : existing.groupId === null && existing.toUserId === target.to;
    if (!same) throw new AppError('CONFLICT', 'clientId already used for another conversation');
    const message = (await present([existing], { viewer: existing.fromUserId ?? undefined }))[0]!;
    if (existing.fromUserId !== null && existing.deletedAt === null && !(await bus.wasPushed(existing.id))) {
      const pushed = (await present([existing]))[0]!;
      if (existing.groupId !== null) bus.emit(groupRoom(existing.groupId), 'chat:message', { message: pushed }, target.originSocketId);
      else if (existing.toUserId !== null) {
        bus.emit([existing.toUserId, existing.fromUserId], 'chat:message', { message: pushed }, target.originSocketId);
        unread.pushSoon(existing.toUserId);
      }
      bus.markPushed(existing.id);
      await bus.published();
    }
    return { message, created: false };
  }

  /** Who may send: a friend (direct), or a current member (group). Throws the contract's code. */
  async function checkSender(input: SendInput, clientId: string | null): Promise<{ message: WireMessage; created: false } | null> {
    const { from } = input;
    if (input.groupId !== undefined) {
      const { group, member } = await groupAccess(db, input.groupId, from);
      if (group && member && member.leftAt === null) return null;
      // A resend of something already stored is answered even after leaving.
      const existing = clientId ? await findByClientId(from, clientId) : null;
      if (existing) return resent(existing, input);
      if (!group) throw notFound('Group');
      throw notMember();
    }
    const to = input.to;
    if (from === to) throw new AppError('VALIDATION', 'You cannot message yourself');
    if (await friends.areFriends(from, to)) return null;
    // A resend of something already stored is answered even after an unfollow.
    const existing = clientId ? await findByClientId(from, clientId) : null;
    if (existing) return resent(existing, input);
    if (!(await userExists(to))) throw notFound('User');
    throw new AppError('NOT_FRIENDS', 'You can only message friends');
  }

  /** Marks a message recalled (once): its deletedAt as the wire shows it. Replies to it change with it. */
  async function recall(messageId: string): Promise<string> {
    const deletedAt = new Date();
    const { count } = await prisma.message.updateMany({ where: { id: messageId, deletedAt: null }, data: { deletedAt } });
    if (count === 0) throw notFound('Message');
    await lifecycle.touchReplies(messageId);
    return deletedAt.toISOString();
  }

  /**
   * A sender recalls their own group message (whether or not still a member). Members who
   * cannot recall it get FORBIDDEN, anyone else "not found". Members who had not read it yet
   * get their counts again.
   */
  async function removeGroupMessage(me: string, m: Message): Promise<void> {
    const groupId = m.groupId!;
    if (m.fromUserId !== me) {
      const { member } = await groupAccess(db, groupId, me);
      if (member && (member.leftAt === null || member.leftAt >= m.createdAt)) {
        throw new AppError('FORBIDDEN', 'Only the sender can delete this message');
      }
      throw notFound('Message');
    }
    const { count, deletedAt } = await recallGroupMessage(db, m.id);
    if (count === 0) throw notFound('Message');
    await lifecycle.touchReplies(m.id);
    // A recalled message's upload goes with it, for everyone.
    if (m.attachmentId) await attachments.discard(m.attachmentId).catch(onError);
    bus.emit([groupRoom(groupId), me], 'chat:deleted', { messageId: m.id, groupId, deletedAt });
    const unreadBy = await db.sql<{ userId: string }>(
      `SELECT "userId" FROM ${db.table('GroupMember')}
       WHERE "groupId" = $1::uuid AND "leftAt" IS NULL AND "readSeq" < $2::bigint AND "userId" <> $3::text`,
      [groupId, m.seq === null ? null : String(m.seq), me],
    );
    await unread.push(unreadBy.map((r) => r.userId));
  }

  // Inserts are batched (writer.ts).
  const writer = createMessageWriter(db, { outboxLeaseMs: outbox?.leaseMs ?? null });

  return {
    /** Direct and group messages alike: the same checks, rate limit, idempotency and batched write. */
    async send(input: SendInput): Promise<{ message: WireMessage; created: boolean }> {
      const { from, receivedAt = Date.now(), rateLimited = true } = input;
      const clientId = input.clientId ?? null;
      const answered = await checkSender(input, clientId);
      if (answered) return answered;
      const isRich = input.attachmentId !== undefined || input.location !== undefined;
      const target = { fromUserId: from, toUserId: input.to ?? null, groupId: input.groupId ?? null, clientId, replyToId: input.replyToId ?? null };
      if (target.replyToId !== null) {
        try {
          await lifecycle.checkReply(target, target.replyToId);
        } catch (err) {
          const existing = clientId ? await findByClientId(from, clientId) : null;
          if (existing) return resent(existing, input);
          throw err;
        }
      }
      let kind, text;
      try {
        text = filterSendText(filter, input);
        kind = isRich ? await rich.kindOf(from, input) : 'text';
      } catch (err) {
        // A resend after the upload was sent (by this very message), or of text the word list
        // now refuses, returns the first message.
        const existing = clientId ? await findByClientId(from, clientId) : null;
        if (existing) return resent(existing, input);
        throw err;
      }
      // A token is taken before the write and given back if the write finds the clientId
      // already stored: idempotent resends do not count, and the common path asks nothing extra.
      if (rateLimited && !(await rateLimiter.take(from, receivedAt))) {
        const existing = clientId ? await findByClientId(from, clientId) : null;
        if (existing) return resent(existing, input);
        throw new AppError('RATE_LIMITED', 'Too many messages, slow down');
      }
      // Whether the host's hook wants this one: only then is an outbox row stored with it.
      const hook = outbox !== null && outbox.wants(target);
      const draft = { ...target, content: text.content, hook };
      const { message: stored, created } = isRich
        ? await rich.write({ ...draft, kind, attachmentId: input.attachmentId ?? null, location: text.location ?? null })
        : await writer.write(draft);
      if (!created) {
        if (rateLimited) await rateLimiter.refund(from);
        return resent(stored, input);
      }
      const message = (await present([stored], { fresh: true }))[0]!;
      if (input.groupId !== undefined) {
        // One emit to the group's room: every member's tabs (the sender's other tabs among
        // them), one publish when nodes share a Redis adapter. No recount per member: each
        // member's client counts it as unread itself (unread.ts).
        bus.emit(groupRoom(input.groupId), 'chat:message', { message }, input.originSocketId);
      } else {
        // The recipient's tabs and the sender's other tabs, in one broadcast (one publish when
        // nodes share a Redis adapter): the socket that sent it gets the ack instead.
        bus.emit([input.to, from], 'chat:message', { message }, input.originSocketId);
        // The recipient's counts, at most every 200 ms per user (a burst: one push for all of it).
        unread.pushSoon(input.to);
      }
      // Right after the publish, on its connection: a resend finds the push went out.
      bus.markPushed(message.id);
      // The host's reaction (the demo's "first message" achievement) runs after the answer,
      // from the outbox row stored with the message (outbox.ts): at least once, even if this
      // node dies first, and never on the sender's time.
      if (hook) outbox?.enqueue(message);
      // Answered once Redis took the broadcast above (with several nodes): a node that dies
      // after the answer has not taken the push to the recipient's other node with it.
      await bus.published();
      return { message, created: true };
    },

    async history(me: string, peerId: string, before: string | undefined, limit: number) {
      // The page (with its reactions: one statement) is read beside the host's answer on the
      // peer, and answered only once that passed (an unknown peer is 404 whatever the cursor).
      const read = (async () => historyRows(db, me, peerId, before ? decodeCursor(before) : null, limit + 1))();
      read.catch(() => {});
      if (!(await peerExists(peerId))) throw notFound('User');
      const rows = await read;
      const page = rows.slice(0, limit);
      const oldest = page.at(-1);
      const reactions = new Map(page.map((r) => [r.id, r.reactions ?? []]));
      return {
        messages: await present(
          page.reverse().map(({ reactions: _r, ...m }) => m),
          { viewer: me, reactions },
        ),
        nextCursor: rows.length > limit && oldest ? encodeCursor(position(oldest)) : null,
      };
    },

    /**
     * Everything to or from me created or changed after the cursor, each message once in its
     * latest state (recalled ones too, without content), in change order (chat and system). The
     * cursor is a position in (time of the latest change, id) order (sql.ts, syncPage); a round-1 cursor, a (createdAt, id) position
     * in the same format, reads as one and hands out at most some messages again.
     */
    async sync(me: string, after: string | undefined, limit: number): Promise<SyncPage> {
      const from = after ? decodeCursor(after) : START;
      // Before the read: the bound must cover every transaction that could still commit.
      const first = await syncHorizon(db);
      let { rows, bound } = await syncPage(db, me, from, first?.horizon ?? null, limit + 1);
      // The last page also holds what was committed before this sync began (its live push may
      // have gone out before a reconnecting client's socket joined): once the writes open then
      // have ended (a few ms; at most SYNC_SETTLE_MS), what they held back is read too.
      // Everything before the first horizon was read already: only what lies between the two is.
      // PostgreSQL only: PGlite runs one transaction at a time, so none is open behind a sync.
      if (first && db.kind === 'postgres' && bound === null && rows.length <= limit) {
        const settled = await syncHorizonPast(db, first.now);
        // (From the cursor itself when it is past that horizon: an older write open now held it back.)
        const edge = from.createdAt >= first.horizon ? from : { createdAt: first.horizon, id: START.id };
        if (settled && settled > first.horizon) {
          const more = await syncPage(db, me, edge, settled, limit + 1);
          // A message changed between the two reads comes once, in the later read's state.
          const later = new Set(more.rows.map((r) => r.id));
          rows = [...rows.filter((r) => !later.has(r.id)), ...more.rows];
          bound = more.bound;
        }
      }
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      // A full page ends at its last message; one that is not full but did not read to the end
      // (what it read had changed again later, and comes again at that later change) ends where
      // its reading did, and may hold no message at all.
      const end: Position | null = rows.length > limit || !bound ? (last ? { createdAt: last.at, id: last.id } : null) : bound;
      return {
        messages: await present(page, { viewer: me }),
        nextCursor: end ? encodeCursor(end) : (after ?? encodeCursor(START)),
        hasMore: rows.length > limit || bound !== null,
      };
    },

    /**
     * Marks what `peerId` sent me as read. The sender gets a receipt, and so do my other tabs
     * (`originSocketId`, the tab that read, already knows).
     */
    async markRead(me: string, peerId: string, originSocketId?: string): Promise<{ updated: number }> {
      if (!(await peerExists(peerId))) throw notFound('User');
      const readAt = new Date();
      const { count } = await prisma.message.updateMany({
        where: { fromUserId: peerId, toUserId: me, isRead: false, deletedAt: null },
        data: { isRead: true, readAt },
      });
      if (count > 0) {
        bus.emit([peerId, me], 'chat:read', { by: me, peerId, readAt: readAt.toISOString() }, originSocketId);
        await unread.push(me);
      }
      return { updated: count };
    },

    /**
     * Soft delete. A sender may recall their own chat message; a user may delete system
     * messages sent to them. Others learn nothing: a message they cannot see is "not found",
     * one they can see but not delete (the recipient of a chat message) is FORBIDDEN.
     */
    async remove(me: string, messageId: string): Promise<void> {
      const m = await prisma.message.findUnique({ where: { id: messageId } });
      if (!m || m.deletedAt) throw notFound('Message');
      if (m.groupId !== null) return removeGroupMessage(me, m);
      const to = m.toUserId!; // a direct message or a notification: always a recipient
      const isSystem = m.fromUserId === null;
      const mine = isSystem ? to === me : m.fromUserId === me;
      if (!mine) {
        if (to === me) throw new AppError('FORBIDDEN', 'Only the sender can delete this message');
        throw notFound('Message');
      }
      const deletedAt = await recall(messageId);
      // A recalled message's upload goes with it, for everyone.
      if (m.attachmentId) await attachments.discard(m.attachmentId).catch(onError);
      if (isSystem) {
        // System messages have no other party; "system" tells the client which list to update.
        bus.emit(me, 'chat:deleted', { messageId, peerId: 'system', deletedAt });
      } else {
        bus.emit(m.fromUserId!, 'chat:deleted', { messageId, peerId: to, deletedAt });
        bus.emit(to, 'chat:deleted', { messageId, peerId: m.fromUserId!, deletedAt });
      }
      if (!m.isRead) await unread.push(to);
    },

    /** One entry per chat partner (direct chat), with the last message and unread count, newest first. */
    async conversations(me: string): Promise<ConversationEntry[]> {
      const latest = await db.sql<{ id: string }>(
        `SELECT DISTINCT ON (peer) id::text AS id FROM (
          SELECT id, "createdAt", CASE WHEN "fromUserId" = $1::text THEN "toUserId" ELSE "fromUserId" END AS peer
          FROM ${db.table('Message')}
          WHERE ("fromUserId" = $1::text OR "toUserId" = $1::text) AND "messageType" = 'CHAT' AND "deletedAt" IS NULL
            AND "groupId" IS NULL
        ) t
        ORDER BY peer, "createdAt" DESC, id DESC`,
        [me],
      );
      if (latest.length === 0) return [];
      const [messages, counts] = await Promise.all([
        prisma.message.findMany({ where: { id: { in: latest.map((l) => l.id) } } }),
        unread.counts(me),
      ]);
      // Direct messages only here (groupId null): the other party is never null.
      const peerOf = (m: Message) => (m.fromUserId === me ? m.toUserId! : m.fromUserId!);
      const wire = new Map((await present(messages, { viewer: me })).map((w) => [w.id, w]));
      const peers = new Map<string, ChatUser>((await users.byIds([...new Set(messages.map(peerOf))])).map((u) => [u.id, toChatUser(u)]));
      const muted = new Set(counts.muted.users);
      return messages
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .flatMap((m) => {
          const peerId = peerOf(m);
          const peer = peers.get(peerId) ?? (isDeletedUserId(peerId) ? deletedUser(peerId) : undefined);
          if (!peer) return [];
          return [
            { peer, lastMessage: wire.get(m.id)!, unread: counts.byPeer[peer.id] ?? 0, updatedAt: m.createdAt.toISOString(), muted: muted.has(peer.id) },
          ];
        });
    },
  };
}
export type MessageService = ReturnType<typeof createMessageService>;
