// What counts as unread, in one place. Direct chat: messages to me, not read, not deleted,
// counted per sender (`byPeer`); system messages apart (`system`). Groups: each current
// membership's chat messages from others after my read position (`byGroup`) — arithmetic on the
// group's message numbers and my read position (groups/seq.ts), never a row per recipient nor a
// count over the messages; GROUP_EVENT notices never count. `total` sums byPeer and byGroup over
// the conversations that are not muted.
//
// Pushes are coalesced: every user asked for while a recount is running joins the next one,
// and one grouped query recounts them all. Under load a stream of messages to the same people
// costs one query per batch instead of one per message; at rest it adds no wait.
//
// A new group message does not push `unread:update` to every member (that would be a recount
// per member per message): each member's client adds it to `byGroup` itself from the
// `chat:message` it receives. Reads, joins, leaves and mutes push the recount.
import type { Database } from '../db/database.ts';
import type { Bus } from '../realtime/bus.ts';
import type { UnreadCounts } from '../realtime/events.ts';
import { unreadSql } from '../groups/seq.ts';

/** Unread counts for users with none of anything. */
export const emptyCounts = (): UnreadCounts => ({ total: 0, byPeer: {}, byGroup: {}, system: 0, muted: { users: [], groups: [] } });

export function createUnreadService(db: Database, bus: Bus, onError: (err: unknown) => void = () => {}) {
  const message = db.table('Message');
  const member = db.table('GroupMember');
  const mute = db.table('Mute');
  // Runs after every direct message: plain SQL, one round trip for the three parts, no ORM.
  // `k`: p = direct chat by sender (null sender = system), g = a user's groups with unread (key:
  // a JSON object of group id → count, one row rather than one per group: on PGlite, rows cost
  // more to hand over than the counts cost to compute), m = a mute (key kind:id).
  const COUNTS = `
    SELECT 'p' AS k, "toUserId" AS u, "fromUserId" AS key, count(*)::int AS n FROM ${message}
     WHERE "toUserId" = ANY($1::text[]) AND "isRead" = false AND "deletedAt" IS NULL
     GROUP BY "toUserId", "fromUserId"
    UNION ALL
    SELECT 'g', gm."userId", json_object_agg(gm."groupId", c.n)::text, 0 FROM ${member} gm
     JOIN ${db.table('Group')} g ON g.id = gm."groupId"
     CROSS JOIN LATERAL (SELECT ${unreadSql(message)} AS n) c
     WHERE gm."userId" = ANY($1::text[]) AND gm."leftAt" IS NULL AND c.n > 0
     GROUP BY gm."userId"
    UNION ALL
    SELECT 'm', "userId", kind || ':' || "targetId", 0 FROM ${mute}
     WHERE "userId" = ANY($1::text[]) AND ("until" IS NULL OR "until" > (now() AT TIME ZONE 'UTC'))`;

  async function countsFor(userIds: string[]): Promise<Map<string, UnreadCounts>> {
    const rows = await db.sql<{ k: 'p' | 'g' | 'm'; u: string; key: string | null; n: number }>(COUNTS, [userIds]);
    const result = new Map<string, UnreadCounts>(userIds.map((id) => [id, emptyCounts()]));
    for (const r of rows) {
      const c = result.get(r.u);
      if (!c) continue;
      if (r.k === 'p') {
        if (r.key === null) c.system += r.n;
        else c.byPeer[r.key] = r.n;
      } else if (r.k === 'g') Object.assign(c.byGroup, JSON.parse(r.key!) as Record<string, number>);
      else {
        const [kind, ...rest] = r.key!.split(':');
        (kind === 'user' ? c.muted.users : c.muted.groups).push(rest.join(':'));
      }
    }
    for (const c of result.values()) {
      const mutedUsers = new Set(c.muted.users);
      const mutedGroups = new Set(c.muted.groups);
      for (const [peer, n] of Object.entries(c.byPeer)) if (!mutedUsers.has(peer)) c.total += n;
      for (const [group, n] of Object.entries(c.byGroup)) if (!mutedGroups.has(group)) c.total += n;
    }
    return result;
  }

  let pending = new Set<string>();
  let waiters: (() => void)[] = [];
  let running = false;

  async function flush(): Promise<void> {
    running = true;
    try {
      while (pending.size > 0) {
        const ids = [...pending];
        const done = waiters;
        pending = new Set();
        waiters = [];
        try {
          // IN lists stay bounded; a notifyMany to thousands is recounted in chunks.
          for (let i = 0; i < ids.length; i += 1000) {
            for (const [id, counts] of await countsFor(ids.slice(i, i + 1000))) bus.emit(id, 'unread:update', counts);
          }
        } catch (err) {
          onError(err);
        }
        for (const w of done) w();
      }
    } finally {
      running = false;
    }
  }

  return {
    async counts(userId: string): Promise<UnreadCounts> {
      return (await countsFor([userId])).get(userId)!;
    },

    /** Recounts and pushes `unread:update` to each user's tabs; resolves once pushed. Never throws. */
    push(userIds: string | string[]): Promise<void> {
      if (Array.isArray(userIds) && userIds.length === 0) return Promise.resolve();
      for (const id of Array.isArray(userIds) ? userIds : [userIds]) pending.add(id);
      const done = new Promise<void>((resolve) => waiters.push(resolve));
      if (!running) {
        running = true;
        setImmediate(() => void flush());
      }
      return done;
    },
  };
}
export type UnreadService = ReturnType<typeof createUnreadService>;
