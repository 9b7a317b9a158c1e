// What counts as unread, in one place. Direct chat: messages to me, not read, not deleted,
// counted per sender (`byPeer`) — counts the database keeps as messages come, are read, recalled
// or deleted (table "UnreadCount", triggers on Message); system messages apart (`system`),
// recounted.
// Groups: each current membership's chat messages from others after my read position
// (`byGroup`) — arithmetic on the group's message numbers and my read position (groups/seq.ts),
// never a row per recipient nor a count over the messages; GROUP_EVENT notices never count. `total` sums byPeer and byGroup over
// the conversations that are not muted.
//
// Pushes are coalesced: every user asked for while a recount is running joins the next one,
// and one grouped query recounts them all. Under load a stream of messages to the same people
// costs one query per batch instead of one per message; at rest it adds no wait.
//
// A new direct message pushes its recipient's counts at most every `newMessageIntervalMs` (200 ms)
// per user, always the latest state: the first within `gatherMs` (20 ms: the recipients of every
// message of that window are recounted by one statement, not one each), those that follow within
// the interval together at its end (`pushSoon`). A burst of messages to one user costs one recount
// and one socket write per interval instead of one per message. Reads, deletes and the rest push
// at once.
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

export function createUnreadService(
  db: Database,
  bus: Bus,
  onError: (err: unknown) => void = () => {},
  opts: { newMessageIntervalMs?: number; gatherMs?: number; now?: () => number } = {},
) {
  const interval = opts.newMessageIntervalMs ?? 200;
  const gatherMs = opts.gatherMs ?? 20;
  const now = opts.now ?? Date.now;
  const message = db.table('Message');
  const member = db.table('GroupMember');
  const mute = db.table('Mute');
  // Runs after every direct message: plain SQL, one round trip for the four parts, no ORM, a
  // prepared statement (planning it cost about as much as running it, on both databases).
  // `k`: p = direct chat by sender, read from the counts the database keeps per (recipient,
  // sender) ("UnreadCount", kept by triggers on Message: migration 20261224000000_unread_counts)
  // rather than recounted (a recount visited every unread message of each recipient:
  // bench/README.md, issue 15); p with a null key = system messages, recounted (few per user; kept counts would
  // make the host's notification transactions deadlock: see the migration), g = a user's groups with
  // unread (key: "<group id> <count> <group id> <count> …", one row rather than one per group:
  // on PGlite, rows cost more to hand over than the counts cost to compute; plain text, as it is
  // cheaper to build and to read than a JSON object), m = a mute (key kind:id). The group's count
  // is computed once per membership (the subquery, fenced by OFFSET 0, is not folded into the
  // filter and the aggregate, which would evaluate it twice).
  // Every part looks up each user by equality, one user at a time (a LATERAL subquery per user,
  // fenced by OFFSET 0 or an aggregate so it is not turned into a join): a prepared statement runs
  // a generic plan, and for `"userId" = ANY($1)` that plan could be a scan of the whole table with
  // each row compared to every user of the batch (a sequential scan of "UnreadCount", every
  // system message of every user), taken whenever the statistics were older than the rows. A
  // profile at 2,000 messages a second found PostgreSQL comparing ~2,000 rows with the batch on
  // every recount (bench/README.md, issue 15). Per user, the index on the user is the only
  // sensible plan (tests/backend/message-indexes.test.ts).
  const COUNTS = `
    SELECT 'p' AS k, q.u, c."peerId" AS key, c.n FROM unnest($1::text[]) q(u)
     CROSS JOIN LATERAL (SELECT "peerId", n FROM ${db.table('UnreadCount')} WHERE "userId" = q.u AND n > 0 OFFSET 0) c
    UNION ALL
    SELECT 'p', q.u, NULL, s.n FROM unnest($1::text[]) q(u)
     CROSS JOIN LATERAL (SELECT count(*)::int AS n FROM ${message}
       WHERE "toUserId" = q.u AND "fromUserId" IS NULL AND "isRead" = false AND "deletedAt" IS NULL) s
     WHERE s.n > 0
    UNION ALL
    SELECT 'g', q.u, c.key, 0 FROM unnest($1::text[]) q(u)
     CROSS JOIN LATERAL (SELECT string_agg(c.g || ' ' || c.n, ' ') AS key FROM (
      SELECT gm."groupId"::text AS g, ${unreadSql(message)} AS n FROM ${member} gm
       JOIN ${db.table('Group')} g ON g.id = gm."groupId"
       WHERE gm."userId" = q.u AND gm."leftAt" IS NULL OFFSET 0) c
      WHERE c.n > 0) c
     WHERE c.key IS NOT NULL
    UNION ALL
    SELECT 'm', q.u, c.key, 0 FROM unnest($1::text[]) q(u)
     CROSS JOIN LATERAL (SELECT kind || ':' || "targetId" AS key FROM ${mute}
       WHERE "userId" = q.u AND ("until" IS NULL OR "until" > (now() AT TIME ZONE 'UTC')) OFFSET 0) c`;

  async function countsFor(userIds: string[]): Promise<Map<string, UnreadCounts>> {
    // Each user once: every part returns its rows once per id given.
    const rows = await db.prepared<{ k: 'p' | 'g' | 'm'; u: string; key: string | null; n: number }>(COUNTS, [[...new Set(userIds)]]);
    const result = new Map<string, UnreadCounts>(userIds.map((id) => [id, emptyCounts()]));
    for (const r of rows) {
      const c = result.get(r.u);
      if (!c) continue;
      if (r.k === 'p') {
        if (r.key === null) c.system += r.n;
        else c.byPeer[r.key] = r.n;
      } else if (r.k === 'g') {
        const parts = r.key!.split(' ');
        for (let i = 0; i < parts.length; i += 2) c.byGroup[parts[i]!] = Number(parts[i + 1]);
      } else {
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

  // When each user's counts were last pushed (only the last `interval` matters: older entries
  // are swept), and the users whose next push waits for their interval to end.
  const lastPushAt = new Map<string, number>();
  const deferred = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  // New-message recipients gathered for one recount (the first push of their interval).
  let gathered = new Set<string>();
  let gatherTimer: NodeJS.Timeout | null = null;
  function releaseGathered(): void {
    gatherTimer = null;
    const ids = [...gathered];
    gathered = new Set();
    if (!closed && ids.length > 0) void push(ids);
  }
  let closed = false;
  const tickMs = Math.max(1, Math.min(25, interval / 4));
  function releaseDue(): void {
    timer = null;
    if (closed) return;
    const t = now();
    const due: string[] = [];
    for (const id of deferred) {
      if (t - (lastPushAt.get(id) ?? 0) >= interval) {
        due.push(id);
        deferred.delete(id);
      }
    }
    for (const [id, at] of lastPushAt) if (t - at >= interval && !deferred.has(id)) lastPushAt.delete(id);
    if (due.length > 0) void push(due);
    if (deferred.size > 0) timer = setTimeout(releaseDue, tickMs).unref();
  }

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
            for (const [id, counts] of await countsFor(ids.slice(i, i + 1000))) {
              bus.emit(id, 'unread:update', counts);
              lastPushAt.set(id, now());
            }
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

  /** Recounts and pushes `unread:update` to each user's tabs; resolves once pushed. Never throws. */
  function push(userIds: string | string[]): Promise<void> {
    if (Array.isArray(userIds) && userIds.length === 0) return Promise.resolve();
    for (const id of Array.isArray(userIds) ? userIds : [userIds]) pending.add(id);
    const done = new Promise<void>((resolve) => waiters.push(resolve));
    if (!running) {
      running = true;
      setImmediate(() => void flush());
    }
    return done;
  }

  return {
    async counts(userId: string): Promise<UnreadCounts> {
      return (await countsFor([userId])).get(userId)!;
    },

    push,

    /**
     * A new message for `userId`: their counts go out now if none went out in the last interval,
     * otherwise once it ends (the latest state then, one push for all that came meanwhile).
     */
    pushSoon(userId: string): void {
      if (closed || deferred.has(userId)) return;
      const last = lastPushAt.get(userId);
      if (interval <= 0 || last === undefined || now() - last >= interval) {
        gathered.add(userId);
        gatherTimer ??= setTimeout(releaseGathered, gatherMs).unref();
        return;
      }
      deferred.add(userId);
      timer ??= setTimeout(releaseDue, tickMs).unref();
    },

    /** Drops the pushes still waiting for their interval (the node is closing). */
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (gatherTimer) clearTimeout(gatherTimer);
      gatherTimer = null;
      gathered.clear();
      deferred.clear();
      lastPushAt.clear();
    },
  };
}
export type UnreadService = ReturnType<typeof createUnreadService>;
