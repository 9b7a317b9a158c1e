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
  // Every user of a batch in one statement (one round trip and one commit), not one upsert each.
  const UPSERT = `INSERT INTO ${db.table('UserPresence')} ("userId", "lastSeenAt")
     SELECT u, (t AT TIME ZONE 'UTC') FROM unnest($1::text[], $2::timestamptz[]) AS x(u, t)
     ON CONFLICT ("userId") DO UPDATE SET "lastSeenAt" = EXCLUDED."lastSeenAt"`;
  return {
    /** Stores each user's lastSeenAt, all in one statement (each user at most once). */
    async touchMany(entries: { userId: string; at: Date }[]): Promise<void> {
      const live = entries.filter((e) => !isDeleted(e.userId));
      if (live.length === 0) return;
      await db.prepared(UPSERT, [live.map((e) => e.userId), live.map((e) => e.at.toISOString())]);
      // Deleted while the upsert ran (the host's delete removed the row before it landed): not kept.
      const gone = live.filter((e) => isDeleted(e.userId)).map((e) => e.userId);
      if (gone.length > 0) await db.sql(`DELETE FROM ${db.table('UserPresence')} WHERE "userId" = ANY($1::text[])`, [gone]);
    },
    async of(userIds: string[]): Promise<Map<string, Date>> {
      if (userIds.length === 0) return new Map();
      const rows = await db.prisma.userPresence.findMany({ where: { userId: { in: userIds } } });
      return new Map(rows.map((r) => [r.userId, r.lastSeenAt]));
    },
  };
}
export type LastSeenStore = ReturnType<typeof createLastSeenStore>;

export interface PresenceQueueOptions {
  /** Users announced per batch at most (one lastSeenAt statement each batch). */
  maxBatch?: number;
  /**
   * Friend lists loaded at once when `friends` has no `friendIdsMany`, so a batch cannot take the
   * host's whole pool.
   */
  friendLoads?: number;
  /** How long a failed announcement waits before it is made again. */
  retryMs?: number;
  /** Users whose friends are told in one go; the event loop is let go between such chunks (default 20). */
  tellChunk?: number;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}
/** A user's announcement waiting for the next batch: the latest state wins. */
interface Pending {
  /** null: look the state up when the batch runs (a restatement). */
  online: boolean | null;
  /** A restatement was asked for: the state is looked up even if a change and its undoing follow. */
  restate: boolean;
  at: Date;
  waiters: Waiter[];
}

/**
 * Announcements go through one queue per node, a batch at a time: what arrives while a batch runs
 * waits for the next one, and a user's newer change replaces the older one still waiting (the
 * latest state wins). A batch stores every user's lastSeenAt in one statement and gets every
 * friend list in one call (`friendIdsMany`: the friend cache loads the lists it lacks at once), so
 * a storm of connects and disconnects costs the database a few round trips per batch instead of
 * a few per change (with queries per change, thousands queued for a pool of 10, and those that
 * waited 5 s failed: bench/README.md, presence at scale).
 */
export function createPresenceService(
  presence: Presence,
  bus: Bus,
  friends: FriendGraph,
  lastSeen: Pick<LastSeenStore, 'touchMany'>,
  onError: (err: unknown) => void = () => {},
  opts: PresenceQueueOptions = {},
) {
  const maxBatch = opts.maxBatch ?? 500;
  const friendLoads = opts.friendLoads ?? 4;
  const retryMs = opts.retryMs ?? 1000;
  const tellChunk = opts.tellChunk ?? 20;

  // The presence store is updated at once, and what it answers (first socket? last socket?) is
  // read in the order of the user's connects and disconnects: a tab that opens and closes at
  // once must not queue "offline" before "online", leaving friends showing a user who is gone.
  const order = new Map<string, Promise<void>>();
  function inOrder(userId: string, step: () => Promise<void>): Promise<void> {
    const run = (order.get(userId) ?? Promise.resolve()).then(step);
    const settled = run.catch(() => {});
    order.set(userId, settled);
    void settled.then(() => {
      if (order.get(userId) === settled) order.delete(userId);
    });
    return run;
  }

  const pending = new Map<string, Pending>();
  /** Per user: settles once the user's latest queued announcement was made (or failed). */
  const done = new Map<string, Promise<void>>();
  let draining = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | null = null;
  const retryIds = new Set<string>();

  function enqueue(userId: string, online: boolean | null, waiter?: Waiter): void {
    const entry = pending.get(userId);
    if (entry && online !== null && entry.online === !online && !entry.restate) {
      // A change and its undoing both waiting (a tab that opened and closed at once): together
      // they change nothing friends were told, so neither is announced ("on change", DESIGN.md).
      pending.delete(userId);
      for (const w of entry.waiters) w.resolve();
      waiter?.resolve();
      return;
    }
    if (entry) {
      entry.online = online;
      if (online === null) entry.restate = true;
      entry.at = new Date();
      if (waiter) entry.waiters.push(waiter);
    } else {
      pending.set(userId, { online, restate: online === null, at: new Date(), waiters: waiter ? [waiter] : [] });
    }
    if (!draining) {
      draining = true;
      // On the next turn: the changes of this one (a burst of disconnects) share the batch.
      setImmediate(() => void drain());
    }
  }

  /** Queues the user's announcement; resolves once friends were told, rejects when it failed. */
  function announce(userId: string, online: boolean | null): Promise<void> {
    if (closed) return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => enqueue(userId, online, { resolve, reject }));
    const quiet = p.catch(() => {});
    done.set(userId, quiet);
    void quiet.then(() => {
      if (done.get(userId) === quiet) done.delete(userId);
    });
    return p;
  }

  async function drain(): Promise<void> {
    try {
      while (pending.size > 0 && !closed) {
        const batch: [string, Pending][] = [];
        for (const item of pending) {
          batch.push(item);
          if (batch.length >= maxBatch) break;
        }
        for (const [userId] of batch) pending.delete(userId);
        await runBatch(batch);
      }
    } finally {
      draining = false;
    }
  }

  /** Runs `fn` for each item, at most `limit` at once. */
  async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await fn(items[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  }

  async function runBatch(batch: [string, Pending][]): Promise<void> {
    // The callers waiting on an announcement log its failure; a restatement has none: logged here.
    const failed = (entries: [string, Pending][], err: unknown) => {
      if (entries.some(([, e]) => e.waiters.length === 0)) onError(err);
      for (const [userId, entry] of entries) {
        for (const w of entry.waiters) w.reject(err);
        retryIds.add(userId);
      }
      scheduleRetry();
    };
    let states: Map<string, boolean>;
    try {
      // Restatements: what holds now, for all of them in one call.
      const unknown = batch.filter(([, e]) => e.online === null).map(([id]) => id);
      const online = unknown.length > 0 ? await presence.onlineAmong(unknown) : new Set<string>();
      states = new Map(batch.map(([id, e]) => [id, e.online ?? online.has(id)]));
    } catch (err) {
      return failed(batch, err);
    }
    const stored = lastSeen.touchMany(batch.map(([userId, e]) => ({ userId, at: e.at })));
    stored.catch(() => {}); // awaited below
    const tell = (userId: string, entry: Pending, friendIds: string[]) => {
      bus.emit(friendIds, 'presence:update', { userId, online: states.get(userId)!, lastSeenAt: entry.at.toISOString() });
      for (const w of entry.waiters) w.resolve();
    };
    if (friends.friendIdsMany) {
      // Every friend list of the batch in one call (the friend cache's: the lists it lacks in one query).
      try {
        const [lists] = await Promise.all([friends.friendIdsMany(batch.map(([id]) => id)), stored]);
        for (let i = 0; i < batch.length; i++) {
          // A batch that a backlog filled tells hundreds of users' friends: tens of thousands of
          // socket writes, 212 ms in one stretch in a profile of the presence-scale bench. The event
          // loop is let go every `tellChunk` users, so handshakes and messages do not wait it out.
          if (i > 0 && i % tellChunk === 0) await new Promise((r) => setImmediate(r));
          const [userId, entry] = batch[i]!;
          tell(userId, entry, lists.get(userId) ?? []);
        }
      } catch (err) {
        failed(batch, err);
      }
      return;
    }
    await eachLimited(batch, friendLoads, async (item) => {
      const [userId, entry] = item;
      try {
        const friendIds = await friends.friendIds(userId);
        await stored;
        tell(userId, entry, friendIds);
      } catch (err) {
        failed([item], err);
      }
    });
  }

  // A failed announcement (the database or Redis away, the host's friend list failing) is made
  // again with the state of that moment, after a pause so an outage is not hammered.
  function scheduleRetry(): void {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = null;
      const ids = [...retryIds];
      retryIds.clear();
      for (const id of ids) if (!pending.has(id)) enqueue(id, null);
    }, retryMs);
    retryTimer.unref?.();
  }

  // Users whose state changed behind this node's back (a dead node's sockets expired, or this
  // node's came back after Redis lost them): their state now, in the next batch.
  presence.onStale((userIds) => {
    if (closed) return;
    for (const id of userIds) enqueue(id, null);
  });

  /** Starts `p` now but lets the queue await it later, without an "unhandled rejection" meanwhile. */
  function early<T>(p: Promise<T>): Promise<T> {
    p.catch(() => {});
    return p;
  }

  /** After the user's earlier changes: queues the announcement when `changed` says so. */
  function after(userId: string, changed: Promise<boolean>, online: boolean): Promise<void> {
    // The step only waits for the store's answer, not for the batch: the user's next change
    // may join the queue (and replace this one) while this batch waits.
    let announced: Promise<void> = Promise.resolve();
    return inOrder(userId, async () => {
      if (await changed) announced = announce(userId, online);
    }).then(() => announced);
  }

  return {
    /**
     * Records a connected socket. `sockets` answers as soon as the store did: how many sockets
     * the user has now, on every node. `announced` settles once friends were told (when it
     * was the user's first socket).
     */
    connected(userId: string, socketId: string): { sockets: Promise<number>; announced: Promise<void> } {
      const sockets = early(presence.connect(userId, socketId));
      return { sockets, announced: after(userId, sockets.then((n) => n === 1), true) };
    },
    disconnected(userId: string, socketId: string): Promise<void> {
      return after(userId, early(presence.disconnect(userId, socketId)), false);
    },
    /** Resolves once what this node has queued for the user's presence has run (never rejects). */
    async settled(userId: string): Promise<void> {
      await order.get(userId);
      await done.get(userId);
    },
    /** Stops announcing (the node is closing): what still waits is dropped. */
    close(): void {
      closed = true;
      for (const entry of pending.values()) for (const w of entry.waiters) w.resolve();
      pending.clear();
      retryIds.clear();
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
    },
    async onlineFriends(userId: string): Promise<string[]> {
      const ids = await friends.friendIds(userId);
      return [...(await presence.onlineAmong(ids))];
    },
    onlineAmong: (ids: string[]) => presence.onlineAmong(ids),
  };
}
export type PresenceService = ReturnType<typeof createPresenceService>;
