// When the host deletes one of its users (`chat.userDeleted`): what the module keeps of them.
//
// - Their notifications, their lastSeenAt and the messages they had recalled: deleted.
// - Their conversations: by default the other party keeps the history they saw, as a letter
//   stays with whoever received it. The deleted user's id in it is replaced by a tombstone id
//   (`deleted:<uuid>`, one per deleted user, never a host's id), so a host that later reuses the
//   id gives the new user none of it. The other party sees that conversation with a placeholder
//   user (`deleted: true`), reads it and marks it read; a send to it answers NOT_FOUND.
// - `messages: 'delete'`: every chat message to or from them goes as well, on both sides.
import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import type { PublicUser } from '../realtime/events.ts';

/** Ids starting with this are tombstones of deleted users; a host's own ids must not. */
export const DELETED_USER_PREFIX = 'deleted:';

export const isDeletedUserId = (id: string) => id.startsWith(DELETED_USER_PREFIX);

/** The user shown in place of a deleted one (clients show their own words for `deleted`). */
export const deletedUser = (id: string): PublicUser => ({ id, username: '', displayName: 'Deleted user', avatarUrl: null, deleted: true });

export interface ForgetOptions {
  /** 'keep' (default): the other party keeps the conversation, anonymised. 'delete': it goes too. */
  messages?: 'keep' | 'delete';
}

/** Their mutes, and everyone's mutes of them. */
const deleteMutes = (db: Database) =>
  `DELETE FROM ${db.table('Mute')} WHERE "userId" = $1::text OR (kind = 'user' AND "targetId" = $1::text)`;

/**
 * Group messages of theirs deleted outright (`gone`, with "groupId", seq and "deletedAt"): for
 * every other member who had not read up to one, it becomes one of the messages after the read
 * position that never count (groups/seq.ts), whether it counted as unread (now it does not) or
 * was recalled (no longer found as a recall). Answers the members whose unread count went down.
 */
const skipGone = (db: Database) => `skipped AS (
             UPDATE ${db.table('GroupMember')} gm SET "sentSinceRead" = gm."sentSinceRead" + s.n
             FROM (SELECT o."groupId", o."userId", count(*)::int AS n, count(*) FILTER (WHERE gone."deletedAt" IS NULL)::int AS unread
                   FROM gone JOIN ${db.table('GroupMember')} o ON o."groupId" = gone."groupId" AND gone.seq > o."readSeq"
                   WHERE o."userId" <> $1::text GROUP BY o."groupId", o."userId") s
             WHERE gm."groupId" = s."groupId" AND gm."userId" = s."userId"
             RETURNING gm."userId", gm."leftAt", s.unread
           )`;
const recountedMembers = `SELECT "userId" FROM skipped WHERE "leftAt" IS NULL AND unread > 0`;

/**
 * Removes or anonymises everything the module stores of `userId`, in one statement (so it all
 * happens or none of it), after locking the groups whose numbered messages of theirs go (in id
 * order, as senders do: no read or send moves a read position meanwhile). Answers the users whose
 * unread counts changed: they received chat messages from the deleted user, now counted under
 * the tombstone or not at all.
 */
export async function forgetUser(db: Database, userId: string, opts: ForgetOptions = {}): Promise<string[]> {
  const m = db.table('Message');
  const deleting = opts.messages === 'delete';
  return db.transaction(async (sql) => {
    await sql(
      `SELECT id FROM ${db.table('Group')} WHERE id IN (
         SELECT "groupId" FROM ${m} WHERE "fromUserId" = $1::text AND seq IS NOT NULL ${deleting ? '' : 'AND "deletedAt" IS NOT NULL'})
       ORDER BY id FOR UPDATE`,
      [userId],
    );
    const rows = deleting
      ? await sql<{ peer: string }>(
          `WITH gone AS (
             DELETE FROM ${m} WHERE "toUserId" = $1::text OR "fromUserId" = $1::text RETURNING "toUserId", "isRead", "deletedAt", "groupId", seq
           ), ${skipGone(db)}, presence AS (DELETE FROM ${db.table('UserPresence')} WHERE "userId" = $1::text
           ), memberships AS (DELETE FROM ${db.table('GroupMember')} WHERE "userId" = $1::text
           ), mutes AS (${deleteMutes(db)})
           SELECT "toUserId" AS peer FROM gone
           WHERE "toUserId" IS NOT NULL AND "toUserId" <> $1::text AND NOT "isRead" AND "deletedAt" IS NULL
           UNION ${recountedMembers}`,
          [userId],
        )
      : // The three row sets are disjoint (one statement may not change a row twice): what goes
        // is sent to them by the system, or sent by them and recalled; what stays is the rest.
        await sql<{ peer: string }>(
          `WITH gone AS (
             DELETE FROM ${m}
             WHERE ("toUserId" = $1::text AND "fromUserId" IS NULL) OR ("fromUserId" = $1::text AND "deletedAt" IS NOT NULL)
             RETURNING "groupId", seq, "deletedAt"
           ), ${skipGone(db)}, sent AS (
             UPDATE ${m} SET "fromUserId" = $2::text, "clientId" = NULL
             WHERE "fromUserId" = $1::text AND "deletedAt" IS NULL RETURNING "toUserId", "isRead"
           ), received AS (
             UPDATE ${m} SET "toUserId" = $2::text
             WHERE "toUserId" = $1::text AND "fromUserId" IS NOT NULL AND "fromUserId" <> $1::text
           ), receipts AS (
             -- The receipts' copies of sender and recipient follow their messages (those of the
             -- messages that go, go with them: a trigger on Message).
             UPDATE ${db.table('Delivery')} SET
               "fromUserId" = CASE WHEN "fromUserId" = $1::text THEN $2::text ELSE "fromUserId" END,
               "toUserId" = CASE WHEN "toUserId" = $1::text AND "fromUserId" <> $1::text THEN $2::text ELSE "toUserId" END
             WHERE "fromUserId" = $1::text OR "toUserId" = $1::text
           ), presence AS (DELETE FROM ${db.table('UserPresence')} WHERE "userId" = $1::text
           ), memberships AS (
             -- Former memberships (they left every group first) move to the tombstone: a reused
             -- id must not read those groups' history.
             UPDATE ${db.table('GroupMember')} SET "userId" = $2::text WHERE "userId" = $1::text
           ), mutes AS (${deleteMutes(db)})
           SELECT "toUserId" AS peer FROM sent WHERE "toUserId" IS NOT NULL AND NOT "isRead"
           UNION ${recountedMembers}`,
          [userId, DELETED_USER_PREFIX + randomUUID()],
        );
    // The unread counts of their conversations moved with the messages (to the tombstone, or
    // away with them), by the triggers on Message: what is left under their id is zeros, which
    // would still tell whom they talked to.
    await sql(`DELETE FROM ${db.table('UnreadCount')} WHERE ("userId" = $1::text OR "peerId" = $1::text) AND n = 0`, [userId]);
    return rows.map((r) => r.peer);
  });
}

/**
 * The users deleted lately, as this node heard (its own calls and the other nodes'). For a while
 * after a deletion, answers cached or computed before it may still name the user: the friend
 * cache drops them from its answers, and presence stores no lastSeenAt for them while their last
 * sockets close.
 */
export function createDeletedUsers(ttlMs = 10 * 60_000) {
  const at = new Map<string, number>();
  return {
    add(userIds: string[]): void {
      const now = Date.now();
      for (const [id, t] of at) if (now - t > ttlMs) at.delete(id);
      for (const id of userIds) at.set(id, now);
    },
    has(userId: string): boolean {
      const t = at.get(userId);
      return t !== undefined && Date.now() - t <= ttlMs;
    },
  };
}
export type DeletedUsers = ReturnType<typeof createDeletedUsers>;
