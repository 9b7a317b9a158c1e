// Presence as users see it: online while any tab is connected (any node), friends told on
// every change, lastSeenAt stored when the last tab closes.
import type { Bus } from './bus.ts';
import type { Presence } from './presence.ts';
import type { FriendGraph } from '../ports.ts';
import type { Database } from '../db/database.ts';

/**
 * lastSeenAt, kept in the module's own table (UserPresence). Not for users `isDeleted` names: the
 * last sockets of a user the host deleted close after their row is gone and must not bring it back.
 */
export function createLastSeenStore(db: Database, isDeleted: (userId: string) => boolean = () => false) {
  return {
    async touch(userId: string, at: Date): Promise<void> {
      if (isDeleted(userId)) return;
      await db.prisma.userPresence.upsert({ where: { userId }, create: { userId, lastSeenAt: at }, update: { lastSeenAt: at } });
    },
    async of(userIds: string[]): Promise<Map<string, Date>> {
      if (userIds.length === 0) return new Map();
      const rows = await db.prisma.userPresence.findMany({ where: { userId: { in: userIds } } });
      return new Map(rows.map((r) => [r.userId, r.lastSeenAt]));
    },
  };
}
export type LastSeenStore = ReturnType<typeof createLastSeenStore>;

export function createPresenceService(
  presence: Presence,
  bus: Bus,
  friends: FriendGraph,
  lastSeen: LastSeenStore,
  onError: (err: unknown) => void = () => {},
) {
  async function announce(userId: string, online: boolean, lastSeenAt: Date | null) {
    const friendIds = await friends.friendIds(userId);
    bus.emit(friendIds, 'presence:update', { userId, online, lastSeenAt: lastSeenAt?.toISOString() ?? null });
  }

  // The presence store is updated at once, but one user's announcements go out one after
  // another. Each awaits storage (lastSeenAt, the friend list) first, and with a connection
  // pool a tab that opens and closes at once could otherwise announce "offline" before
  // "online", leaving friends showing a user online who is gone.
  const queues = new Map<string, Promise<void>>();
  function inOrder(userId: string, change: () => Promise<void>): Promise<void> {
    const run = (queues.get(userId) ?? Promise.resolve()).then(change);
    const settled = run.catch(() => {});
    queues.set(userId, settled);
    void settled.then(() => {
      if (queues.get(userId) === settled) queues.delete(userId);
    });
    return run;
  }

  /** Starts `p` now but lets the queue await it later, without an "unhandled rejection" meanwhile. */
  function early<T>(p: Promise<T>): Promise<T> {
    p.catch(() => {});
    return p;
  }

  async function change(userId: string, online: boolean): Promise<void> {
    const now = new Date();
    await lastSeen.touch(userId, now);
    await announce(userId, online, now);
  }

  // Users whose state changed behind this node's back (a dead node's sockets expired, or this
  // node's came back after Redis lost them): tell friends what holds now.
  presence.onStale((userIds) => {
    for (const userId of userIds) {
      inOrder(userId, async () => {
        await change(userId, (await presence.onlineAmong([userId])).has(userId));
      }).catch(onError);
    }
  });

  return {
    /**
     * Records a connected socket. `sockets` answers as soon as the store did: how many sockets
     * the user has now, on every node. `announced` settles once friends were told (when it
     * was the user's first socket).
     */
    connected(userId: string, socketId: string): { sockets: Promise<number>; announced: Promise<void> } {
      const sockets = early(presence.connect(userId, socketId));
      const announced = inOrder(userId, async () => {
        if ((await sockets) === 1) await change(userId, true);
      });
      return { sockets, announced };
    },
    disconnected(userId: string, socketId: string): Promise<void> {
      const last = early(presence.disconnect(userId, socketId));
      return inOrder(userId, async () => {
        if (await last) await change(userId, false);
      });
    },
    async onlineFriends(userId: string): Promise<string[]> {
      const ids = await friends.friendIds(userId);
      return [...(await presence.onlineAmong(ids))];
    },
    onlineAmong: (ids: string[]) => presence.onlineAmong(ids),
  };
}
export type PresenceService = ReturnType<typeof createPresenceService>;
