// Presence announcements through one queue per node (realtime/presenceService.ts): a burst of
// changes is one batch (one lastSeenAt statement), a user's newer change replaces the one still
// waiting, and friend lists are loaded a few at a time. Handshake lookups share one query
// (db/loader.ts). One query per change queued thousands for a pool of 10 (bench/README.md).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryPresence } from '../../backend/src/realtime/presence.ts';
import { createLastSeenStore, createPresenceService, type LastSeenStore } from '../../backend/src/realtime/presenceService.ts';
import { createLoader } from '../../backend/src/db/loader.ts';
import { createFriendCache } from '../../backend/src/chat/friendCache.ts';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, readMigrations } from '../../backend/src/db/migrate.ts';
import { openHostDatabase, type HostDatabase } from '../../backend/src/host/db.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import type { FriendGraph } from '../../backend/src/ports.ts';
import { createFollowService } from '../../backend/src/host/follows/service.ts';
import type { FriendChat } from '../../backend/src/server.ts';
import type { AchievementService } from '../../backend/src/host/achievements/service.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

type Update = { to: string[]; userId: string; online: boolean; lastSeenAt: string };

function fakeBus(updates: Update[]): Bus {
  return {
    emit: (to: string | string[], event: string, p: Omit<Update, 'to'>) => {
      if (event === 'presence:update') updates.push({ to: ([] as string[]).concat(to), ...p });
    },
  } as unknown as Bus;
}

/** A lastSeenAt store whose batches finish when the test says so. */
function controlledStore() {
  const batches: { userId: string; at: Date }[][] = [];
  const finish: (() => void)[] = [];
  const store: Pick<LastSeenStore, 'touchMany'> = {
    touchMany: (entries) =>
      new Promise<void>((resolve) => {
        batches.push(entries);
        finish.push(resolve);
      }),
  };
  return { store, batches, finish };
}

const tick = () => new Promise((r) => setImmediate(r));
const users = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);

describe('presence announcement queue', () => {
  it('stores the lastSeenAt of a burst of changes in one call and tells every user’s friends', async () => {
    const updates: Update[] = [];
    const calls: { userId: string; at: Date }[][] = [];
    const lastSeen: Pick<LastSeenStore, 'touchMany'> = { touchMany: async (entries) => void calls.push(entries) };
    const friends: FriendGraph = { areFriends: async () => true, friendIds: async (id) => [`friend-of-${id}`] };
    const service = createPresenceService(createMemoryPresence(), fakeBus(updates), friends, lastSeen);
    try {
      const ids = users(200);
      await Promise.all(ids.map((id) => service.connected(id, 'tab').announced));
      expect(calls).toHaveLength(1);
      expect(calls[0]!.map((e) => e.userId).sort()).toEqual([...ids].sort());
      expect(updates).toHaveLength(200);
      for (const u of updates) {
        expect(u.to).toEqual([`friend-of-${u.userId}`]);
        expect(u.online).toBe(true);
        expect(u.lastSeenAt).toBe(calls[0]!.find((e) => e.userId === u.userId)!.at.toISOString());
      }
    } finally {
      service.close();
    }
  });

  it('runs one batch at a time; a user’s changes still waiting are announced as where they end up, or not at all', async () => {
    const updates: Update[] = [];
    const c = controlledStore();
    const friends: FriendGraph = { areFriends: async () => true, friendIds: async () => ['bob'] };
    const service = createPresenceService(createMemoryPresence(), fakeBus(updates), friends, c.store);
    try {
      const carol = service.connected('carol', 'tab-1').announced;
      await tick();
      await tick();
      expect(c.batches.map((b) => b.map((e) => e.userId))).toEqual([['carol']]);
      // While carol's batch runs, alice comes online and goes again: both wait for the next batch.
      const online = service.connected('alice', 'tab-1').announced;
      const offline = service.disconnected('alice', 'tab-1');
      await tick();
      await tick();
      expect(c.batches).toHaveLength(1); // one batch at a time
      c.finish[0]!();
      await carol;
      await tick();
      await tick();
      // alice's coming online and going again cancel out: friends were never told she was
      // online, so they are told nothing (no "online" after the fact, no "offline" twice).
      await Promise.all([online, offline]);
      expect(c.batches.map((b) => b.map((e) => e.userId))).toEqual([['carol']]);
      expect(updates.map((u) => [u.userId, u.online])).toEqual([['carol', true]]);
      // Three changes of one user waiting together are one announcement of where he ends up.
      const dave = service.connected('dave', 'tab-1').announced;
      await tick();
      await tick();
      expect(c.batches.map((b) => b.map((e) => e.userId))).toEqual([['carol'], ['dave']]);
      // While dave's batch runs, erin comes online, then goes, then comes back: one "online".
      const erin = [service.connected('erin', 'tab-1').announced, service.disconnected('erin', 'tab-1'), service.connected('erin', 'tab-2').announced];
      await tick();
      await tick();
      c.finish[1]!();
      await dave;
      await tick();
      await tick();
      expect(c.batches.map((b) => b.map((e) => e.userId))).toEqual([['carol'], ['dave'], ['erin']]);
      c.finish[2]!();
      await Promise.all(erin);
      expect(updates.map((u) => [u.userId, u.online])).toEqual([
        ['carol', true],
        ['dave', true],
        ['erin', true],
      ]);
    } finally {
      service.close();
    }
  });

  it('loads friend lists a few at a time, not one query per user at once', async () => {
    const updates: Update[] = [];
    let running = 0;
    let most = 0;
    const friends: FriendGraph = {
      areFriends: async () => true,
      friendIds: async (id) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 2));
        running--;
        return [`friend-of-${id}`];
      },
    };
    const lastSeen: Pick<LastSeenStore, 'touchMany'> = { touchMany: async () => {} };
    const service = createPresenceService(createMemoryPresence(), fakeBus(updates), friends, lastSeen, () => {}, { friendLoads: 3 });
    try {
      await Promise.all(users(40).map((id) => service.connected(id, 'tab').announced));
      expect(updates).toHaveLength(40);
      expect(most).toBe(3);
    } finally {
      service.close();
    }
  });

  it('lets the event loop go between chunks of users while telling a large batch', async () => {
    // What happens in the same turn as each announcement: a marker set by setImmediate at the
    // first one shows where the loop was let go.
    const order: string[] = [];
    let marked = false;
    const bus = {
      emit: (_to: string[], event: string, p: { userId: string }) => {
        if (event !== 'presence:update') return;
        order.push(p.userId);
        if (!marked) {
          marked = true;
          setImmediate(() => order.push('|'));
        }
      },
    } as unknown as Bus;
    const friends: FriendGraph = {
      areFriends: async () => true,
      friendIds: async () => [],
      friendIdsMany: async (ids) => new Map(ids.map((id) => [id, ['f']])),
    };
    const service = createPresenceService(createMemoryPresence(), bus, friends, { touchMany: async () => {} }, () => {}, { tellChunk: 10 });
    try {
      await Promise.all(users(25).map((id) => service.connected(id, 'tab').announced));
      // One batch of 25: ten users told, the loop let go, the rest.
      expect(order.filter((x) => x !== '|')).toHaveLength(25);
      expect(order.indexOf('|')).toBe(10);
    } finally {
      service.close();
    }
  });

  it('gets every friend list of a batch in one friendIdsMany call when the graph has it', async () => {
    const updates: Update[] = [];
    const calls: string[][] = [];
    const friends: FriendGraph = {
      areFriends: async () => true,
      friendIds: async () => {
        throw new Error('one by one');
      },
      friendIdsMany: async (ids) => {
        calls.push(ids);
        return new Map(ids.filter((id) => id !== 'u3').map((id) => [id, [`friend-of-${id}`]]));
      },
    };
    const service = createPresenceService(createMemoryPresence(), fakeBus(updates), friends, { touchMany: async () => {} });
    try {
      await Promise.all(users(30).map((id) => service.connected(id, 'tab').announced));
      expect(calls).toHaveLength(1);
      expect(calls[0]).toHaveLength(30);
      expect(updates.find((u) => u.userId === 'u3')?.to).toEqual([]);
      expect(updates.find((u) => u.userId === 'u7')?.to).toEqual(['friend-of-u7']);
    } finally {
      service.close();
    }
  });

  it('settles a user once their queued announcement was made', async () => {
    const c = controlledStore();
    const friends: FriendGraph = { areFriends: async () => true, friendIds: async () => [] };
    const service = createPresenceService(createMemoryPresence(), fakeBus([]), friends, c.store);
    try {
      void service.connected('alice', 'tab-1').announced;
      let settled = false;
      void service.settled('alice').then(() => (settled = true));
      await tick();
      await tick();
      expect(c.batches).toHaveLength(1);
      expect(settled).toBe(false);
      c.finish[0]!();
      await service.settled('alice');
      expect(settled).toBe(true);
    } finally {
      service.close();
    }
  });
});

describe('friend cache, many users at once', () => {
  it('loads only the lists it lacks, in one call of the host’s friendIdsMany', async () => {
    const many: string[][] = [];
    const cache = createFriendCache({
      areFriends: async () => true,
      friendIds: async (id) => [`one-${id}`],
      friendIdsMany: async (ids) => (many.push(ids), new Map(ids.map((id) => [id, [`many-${id}`]]))),
    });
    expect(await cache.friendIds('a')).toEqual(['one-a']);
    const lists = await cache.friendIdsMany(['a', 'b', 'c', 'b']);
    expect(many).toEqual([['b', 'c']]);
    expect(Object.fromEntries(lists)).toEqual({ a: ['one-a'], b: ['many-b'], c: ['many-c'] });
    // Now cached: asked again, nothing is loaded.
    await cache.friendIdsMany(['b', 'c']);
    expect(many).toHaveLength(1);
  });

  it('without friendIdsMany, calls friendIds a few users at a time', async () => {
    let running = 0;
    let most = 0;
    const cache = createFriendCache(
      {
        areFriends: async () => true,
        friendIds: async (id) => {
          most = Math.max(most, ++running);
          await new Promise((r) => setTimeout(r, 2));
          running--;
          return [`f-${id}`];
        },
      },
      { loadsAtOnce: 3 },
    );
    const lists = await cache.friendIdsMany(users(20));
    expect(lists.size).toBe(20);
    expect(lists.get('u5')).toEqual(['f-u5']);
    expect(most).toBe(3);
  });
});

describe('createLoader', () => {
  it('answers the lookups of one turn with one load, and those arriving meanwhile with the next', async () => {
    const loads: string[][] = [];
    const finish: (() => void)[] = [];
    const load = createLoader<string, string>(
      (keys) =>
        new Promise((resolve) => {
          loads.push(keys);
          finish.push(() => resolve(new Map(keys.filter((k) => k !== 'nobody').map((k) => [k, k.toUpperCase()]))));
        }),
      { missing: '-' },
    );
    const first = Promise.all([load('a'), load('b'), load('a'), load('nobody')]);
    await tick();
    expect(loads).toEqual([['a', 'b', 'nobody']]);
    const later = load('c');
    await tick();
    expect(loads).toHaveLength(1);
    finish[0]!();
    expect(await first).toEqual(['A', 'B', 'A', '-']);
    await tick();
    expect(loads).toEqual([['a', 'b', 'nobody'], ['c']]);
    finish[1]!();
    expect(await later).toBe('C');
  });

  it('rejects every lookup of a failed load, and keeps answering later ones', async () => {
    let fail = true;
    const load = createLoader<string, number>(
      async (keys) => {
        if (fail) throw new Error('database away');
        return new Map(keys.map((k) => [k, k.length]));
      },
      { missing: 0 },
    );
    await expect(Promise.all([load('a'), load('bb')])).rejects.toThrow('database away');
    fail = false;
    expect(await load('ccc')).toBe(3);
  });
});

describe.each(dbTargets())('lastSeenAt stored in batches on %s', (target) => {
  let tdb: TestDatabase;
  let host: HostDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    host = await openHostDatabase({ databaseUrl: tdb.url, pgliteDir: tdb.pgliteDir });
    db = await openDatabase(host.source, { schema: 'friendchat' });
    await migrate(db, { schema: 'friendchat', migrations: readMigrations() });
  });
  afterAll(async () => {
    await db?.close();
    await host?.close();
    await tdb?.drop();
  });

  it('stores every user’s own time in one statement, over older times, and nothing for deleted users', async () => {
    let statements = 0;
    const counted: Database = {
      ...db,
      prepared: (text, params) => (statements++, db.prepared(text, params)),
      sql: (text, params) => (statements++, db.sql(text, params)),
    };
    const store = createLastSeenStore(counted, (id) => id === 'deleted');
    const t = (s: number) => new Date(Date.UTC(2026, 11, 5, 12, 0, s, 123));
    await store.touchMany([{ userId: 'alice', at: t(1) }]);
    statements = 0;
    await store.touchMany([
      { userId: 'alice', at: t(5) },
      { userId: 'bob', at: t(6) },
      { userId: 'deleted', at: t(7) },
      { userId: 'carol', at: t(8) },
    ]);
    expect(statements).toBe(1);
    const seen = await store.of(['alice', 'bob', 'carol', 'deleted']);
    expect(Object.fromEntries([...seen].map(([id, at]) => [id, at.toISOString()]))).toEqual({
      alice: t(5).toISOString(),
      bob: t(6).toISOString(),
      carol: t(8).toISOString(),
    });
  });
});

describe.each(dbTargets())('the demo host’s friend lists in one query on %s', (target) => {
  let tdb: TestDatabase;
  let host: HostDatabase;
  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    host = await openHostDatabase({ databaseUrl: tdb.url, pgliteDir: tdb.pgliteDir });
    await host.migrate();
  });
  afterAll(async () => {
    await host?.close();
    await tdb?.drop();
  });

  it('answers for each user what friendIds answers (mutual follows only)', async () => {
    const { prisma } = host;
    const ids = Array.from({ length: 5 }, () => randomUUID());
    await prisma.user.createMany({ data: ids.map((id, i) => ({ id, username: `f${i}_${id.slice(0, 6)}`, displayName: `F ${i}`, passwordHash: 'x' })) });
    const [a, b, c, d, e] = ids as [string, string, string, string, string];
    const follow = (x: string, y: string) => ({ followerId: x, followeeId: y });
    await prisma.follow.createMany({ data: [follow(a, b), follow(b, a), follow(a, c), follow(c, a), follow(a, d), follow(e, b), follow(b, e)] });
    const follows = createFollowService(prisma, {} as FriendChat, {} as AchievementService);
    const many = await follows.friendIdsMany([...ids, 'not-a-uuid']);
    for (const id of ids) expect((many.get(id) ?? []).sort()).toEqual((await follows.friendIds(id)).sort());
    expect(many.get(a)?.sort()).toEqual([b, c].sort());
    expect(many.has(d)).toBe(false);
    expect(many.has('not-a-uuid')).toBe(false);
  });
});
