// Numbering group chat messages (migration 20261206000000_group_read_seq). Every group chat
// message gets the next number of its group, so a member's unread count is arithmetic on
// numbers (chat/unread.ts) instead of a count over the messages. Both writers of group chat
// messages (chat/writer.ts, batched text; chat/rich.ts, one upload or location at a time) store
// them through `storeNumbered`, in one transaction that:
//
// 1. locks the groups' rows, in id order (two batches never wait on each other crosswise);
//    membership changes lock the same row (groups/service.ts), so they wait for the send;
// 2. re-checks that each sender is a current member (FOR SHARE on the membership): a message is
//    stored only if its sender is a member when it is numbered;
// 3. inserts the messages with the next numbers; a clientId already stored inserts nothing, and
//    the numbers of the rows stored are closed up, so a retry leaves no hole that would count;
// 4. moves Group.lastSeq, and the senders' `sentSinceRead` (their own messages never count for them).
//
// GROUP_EVENT notices take no number: they never count.
import type { Database, SqlFn } from '../db/database.ts';
import type { Message } from '../generated/prisma/client.ts';

/** What the numbering needs of a group message to store. */
export interface GroupDraftRef {
  id: string;
  groupId: string;
  fromUserId: string;
}

/** Why a message was not stored: its group is gone, or its sender is not a member (any more). */
export type Refusal = 'gone' | 'notMember';

export async function storeNumbered<D extends GroupDraftRef>(
  db: Database,
  drafts: D[],
  /** Inserts these (ON CONFLICT of the clientId DO NOTHING) and answers the rows stored. */
  insert: (sql: SqlFn, numbered: (D & { seq: number })[]) => Promise<Message[]>,
): Promise<{ rows: Message[]; refused: Map<D, Refusal> }> {
  const G = db.table('Group');
  const GM = db.table('GroupMember');
  const refused = new Map<D, Refusal>();
  const rows = await db.transaction(async (sql) => {
    const groupIds = [...new Set(drafts.map((d) => d.groupId))];
    const locked = await sql<{ id: string; lastSeq: string }>(
      `SELECT id::text AS id, "lastSeq"::text AS "lastSeq" FROM ${G} WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      [groupIds],
    );
    const last = new Map(locked.map((g) => [g.id, Number(g.lastSeq)]));
    const members = await sql<{ groupId: string; userId: string }>(
      `SELECT gm."groupId"::text AS "groupId", gm."userId" FROM ${GM} gm
       JOIN unnest($1::uuid[], $2::text[]) AS v(g, u) ON gm."groupId" = v.g AND gm."userId" = v.u
       WHERE gm."leftAt" IS NULL FOR SHARE OF gm`,
      [drafts.map((d) => d.groupId), drafts.map((d) => d.fromUserId)],
    );
    const isMember = new Set(members.map((m) => `${m.groupId}\u0000${m.userId}`));
    const next = new Map(last);
    const numbered: (D & { seq: number })[] = [];
    for (const d of drafts) {
      const seq = next.get(d.groupId);
      if (seq === undefined) refused.set(d, 'gone');
      else if (!isMember.has(`${d.groupId}\u0000${d.fromUserId}`)) refused.set(d, 'notMember');
      else {
        next.set(d.groupId, seq + 1);
        numbered.push({ ...d, seq: seq + 1 });
      }
    }
    if (numbered.length === 0) return [];
    const stored = await insert(sql, numbered);
    const storedIds = new Set(stored.map((r) => r.id));
    // Close up the numbers: the rows stored get base+1, base+2, … in order, whatever was skipped.
    const seqOf = new Map(last);
    const sent = new Map<string, { groupId: string; userId: string; n: number }>();
    const moved: { id: string; seq: number }[] = [];
    for (const d of numbered) {
      if (!storedIds.has(d.id)) continue;
      const seq = seqOf.get(d.groupId)! + 1;
      seqOf.set(d.groupId, seq);
      if (seq !== d.seq) moved.push({ id: d.id, seq });
      const key = `${d.groupId}\u0000${d.fromUserId}`;
      const s = sent.get(key) ?? { groupId: d.groupId, userId: d.fromUserId, n: 0 };
      s.n++;
      sent.set(key, s);
    }
    if (moved.length > 0) {
      await sql(`UPDATE ${db.table('Message')} m SET seq = v.seq FROM unnest($1::uuid[], $2::bigint[]) AS v(id, seq) WHERE m.id = v.id`, [
        moved.map((m) => m.id),
        moved.map((m) => m.seq),
      ]);
    }
    if (sent.size > 0) {
      const grown = [...seqOf].filter(([id, seq]) => seq !== last.get(id));
      const s = [...sent.values()];
      await sql(
        `WITH g AS (
           UPDATE ${G} g SET "lastSeq" = v.seq FROM unnest($1::uuid[], $2::bigint[]) AS v(id, seq) WHERE g.id = v.id
         )
         UPDATE ${GM} gm SET "sentSinceRead" = gm."sentSinceRead" + v.n
         FROM unnest($3::uuid[], $4::text[], $5::int[]) AS v(g, u, n) WHERE gm."groupId" = v.g AND gm."userId" = v.u`,
        [grown.map(([id]) => id), grown.map(([, seq]) => seq), s.map((x) => x.groupId), s.map((x) => x.userId), s.map((x) => x.n)],
      );
    }
    return stored;
  });
  return { rows, refused };
}

/**
 * A member's unread count in a group, as an SQL expression over the membership row `gm` and the
 * group row `g`: the messages numbered after their read position, but for those that never count
 * for them (`sentSinceRead`) and others' recalled ones (looked up only when the group has a recall
 * past the read position). `message` is the Message table.
 */
export const unreadSql = (message: string, gm = 'gm', g = 'g') =>
  `(${g}."lastSeq" - ${gm}."readSeq" - ${gm}."sentSinceRead" - CASE WHEN ${g}."recalledSeq" > ${gm}."readSeq" THEN (
     SELECT count(*) FROM ${message} r WHERE r."groupId" = ${gm}."groupId" AND r."deletedAt" IS NOT NULL
       AND r.seq > ${gm}."readSeq" AND r."fromUserId" <> ${gm}."userId") ELSE 0 END)::int`;

/**
 * Recalls a group message (a soft delete) and moves its group's `recalledSeq` past it, in one
 * statement: the unread counts stop counting it as soon as it is recalled. `count`: 0 when it
 * was recalled already.
 */
export async function recallGroupMessage(db: Database, messageId: string): Promise<{ count: number; deletedAt: string }> {
  const [row] = await db.sql<{ count: number; deletedAt: string }>(
    `WITH r AS (
       UPDATE ${db.table('Message')} SET "deletedAt" = (now() AT TIME ZONE 'UTC') WHERE id = $1::uuid AND "deletedAt" IS NULL
       RETURNING "groupId", seq, "deletedAt"
     ), g AS (
       UPDATE ${db.table('Group')} g SET "recalledSeq" = r.seq FROM r WHERE g.id = r."groupId" AND r.seq > g."recalledSeq"
     )
     SELECT count(*)::int AS count, to_char(max("deletedAt"), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deletedAt" FROM r`,
    [messageId],
  );
  return { count: row!.count, deletedAt: row!.deletedAt };
}
