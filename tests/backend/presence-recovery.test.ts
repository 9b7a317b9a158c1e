// Presence recovering from failures (realtime/presence.ts, presenceService.ts): an announcement
// that failed is made again; after a failed Redis call only the users whose entries Redis lost
// are announced again, not every user of the node.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisClientType } from 'redis';
import { createMemoryPresence, createRedisPresence } from '../../backend/src/realtime/presence.ts';
import { createPresenceService, type LastSeenStore } from '../../backend/src/realtime/presenceService.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import type { FriendGraph } from '../../backend/src/ports.ts';
import { waitUntil } from '../helpers/chat.ts';

describe('presence announcements', () => {
  it('announces again when storing lastSeenAt failed, with the state of that moment', async () => {
    const updates: { to: string[]; online: boolean }[] = [];
    const bus = {
      emit: (to: string | string[], event: string, p: { online: boolean }) => {
        if (event === 'presence:update') updates.push({ to: ([] as string[]).concat(to), online: p.online });
      },
    } as unknown as Bus;
    const friends: FriendGraph = { areFriends: async () => true, friendIds: async () => ['bob'] };
    let failures = 1;
    const lastSeen: LastSeenStore = {
      touchMany: async () => {
        if (failures-- > 0) throw new Error('connection pool timed out');
      },
      of: async () => new Map(),
    };
    const service = createPresenceService(createMemoryPresence(), bus, friends, lastSeen);
    try {
      const { announced } = service.connected('alice', 'tab-1');
      await expect(announced).rejects.toThrow('connection pool timed out');
      await waitUntil(() => updates.length === 1, 5000, 'the announcement made again');
      expect(updates).toEqual([{ to: ['bob'], online: true }]);
    } finally {
      service.close();
    }
  });
});

const url = process.env.REDIS_URL;
describe.skipIf(!url)('Redis presence after a failed call', () => {
  let redis: RedisClientType;
  beforeAll(async () => {
    redis = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
    await redis.connect();
  });
  afterAll(async () => {
    await redis?.quit();
  });

  it('announces again only the users whose entries were lost', async () => {
    const prefix = `test:${randomUUID()}:`;
    // A client whose next ZCOUNT batch fails, as a timed-out call would.
    let failNextMulti = false;
    const flaky = Object.create(redis) as RedisClientType;
    Object.defineProperty(flaky, 'multi', {
      value: () => {
        const m = redis.multi();
        if (!failNextMulti) return m;
        failNextMulti = false;
        return { zCount: () => m, exec: async () => Promise.reject(new Error('Redis did not answer')) };
      },
    });
    const presence = createRedisPresence(flaky, { nodeId: 'n1', ttlSeconds: 0.6, prefix });
    const stale: string[][] = [];
    presence.onStale((ids) => stale.push(ids));
    try {
      await presence.connect('alice', 's1');
      await presence.connect('bob', 's2');
      failNextMulti = true;
      // The failed call answers from this node's own sockets.
      expect(await presence.onlineAmong(['alice', 'bob'])).toEqual(new Set(['alice', 'bob']));
      // Refreshes run every 200 ms: nothing was lost, so nobody is announced again.
      await new Promise((r) => setTimeout(r, 700));
      expect(stale.flat()).toEqual([]);
      // Redis loses alice's entry (swept, or flushed): the next refresh announces her, only her.
      await redis.del(`${prefix}presence:alice`);
      await waitUntil(() => stale.flat().length > 0, 3000, 'a refresh putting alice back');
      expect(stale.flat()).toEqual(['alice']);
    } finally {
      await presence.close();
    }
  });

  it('refreshes a chunk of users per MULTI, and still finds every lost entry', async () => {
    const prefix = `test:${randomUUID()}:`;
    // Counts the MULTIs the refresh sends and the member ZADDs in each.
    const sizes: number[] = [];
    const counting = Object.create(redis) as RedisClientType;
    Object.defineProperty(counting, 'multi', {
      value: () => {
        const m = redis.multi();
        let zAdds = 0;
        return new Proxy(m, {
          get(target, prop) {
            const real = (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target);
            if (prop === 'zAdd') return (...args: unknown[]) => ((zAdds += 1), real(...args));
            if (prop === 'exec') return () => (zAdds > 0 && sizes.push(zAdds), real());
            return real;
          },
        });
      },
    });
    const presence = createRedisPresence(counting, { nodeId: 'n1', ttlSeconds: 0.6, prefix, refreshChunk: 2 });
    const stale: string[][] = [];
    presence.onStale((ids) => stale.push(ids));
    const users = ['u1', 'u2', 'u3', 'u4', 'u5'];
    try {
      for (const u of users) await presence.connect(u, `s-${u}`);
      await presence.connect('u5', 's-u5b'); // two sockets: both in u5's chunk
      await waitUntil(() => sizes.length >= 3, 3000, 'a refresh');
      // Five users, two a chunk: three MULTIs, each a ZADD per socket and one for the index per user.
      expect(sizes.slice(0, 3)).toEqual([4, 4, 3]);
      expect(stale.flat()).toEqual([]);
      // Entries of users in different chunks are lost: one refresh finds both.
      await redis.del([`${prefix}presence:u1`, `${prefix}presence:u5`]);
      await waitUntil(() => stale.flat().length >= 2, 3000, 'a refresh putting u1 and u5 back');
      expect(stale.flat().sort()).toEqual(['u1', 'u5']);
      expect(await presence.onlineAmong(users)).toEqual(new Set(users));
    } finally {
      await presence.close();
    }
  });
});
