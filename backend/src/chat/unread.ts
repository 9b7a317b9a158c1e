// What counts as unread, in one place: messages to me, not read, not deleted. Chat messages
// count per sender (`byPeer`, summed into `total`); system messages count apart (`system`).
//
// Pushes are coalesced: every user asked for while a recount is running joins the next one,
// and one grouped query recounts them all. Under load a stream of messages to the same people
// costs one query per batch instead of one per message; at rest it adds no wait.
import type { Database } from '../db/database.ts';
import type { Bus } from '../realtime/bus.ts';
import type { UnreadCounts } from '../realtime/events.ts';

export function createUnreadService(db: Database, bus: Bus, onError: (err: unknown) => void = () => {}) {
  const table = db.table('Message');
  // Runs after every message: plain SQL on the (toUserId, isRead) index, no ORM round trip.
  async function countsFor(userIds: string[]): Promise<Map<string, UnreadCounts>> {
    const groups = await db.sql<{ to: string; from: string | null; n: number }>(
      `SELECT "toUserId" AS "to", "fromUserId" AS "from", count(*)::int AS n FROM ${table}
       WHERE "toUserId" = ANY($1::text[]) AND "isRead" = false AND "deletedAt" IS NULL
       GROUP BY "toUserId", "fromUserId"`,
      [userIds],
    );
    const result = new Map<string, UnreadCounts>(userIds.map((id) => [id, { total: 0, byPeer: {}, system: 0 }]));
    for (const g of groups) {
      const c = result.get(g.to);
      if (!c) continue;
      if (g.from === null) c.system += g.n;
      else {
        c.byPeer[g.from] = g.n;
        c.total += g.n;
      }
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
