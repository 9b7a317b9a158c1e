// Who is online: a user is online while any of their sockets is connected, on any node
// (DESIGN.md, Rules). In-process by default; in Redis when REDIS_URL is set, where each
// socket entry carries an expiry that its node refreshes, so a crashed node's sockets
// stop counting once their entries expire.
import type { RedisClientType } from 'redis';

export interface Presence {
  /** Records a connected socket; true when the user just came online. */
  connect(userId: string, socketId: string): Promise<boolean>;
  /** Removes a socket; true when it was the user's last one. */
  disconnect(userId: string, socketId: string): Promise<boolean>;
  onlineAmong(userIds: string[]): Promise<Set<string>>;
  close(): Promise<void>;
}

export function createMemoryPresence(): Presence {
  const sockets = new Map<string, Set<string>>();
  return {
    async connect(userId, socketId) {
      let set = sockets.get(userId);
      if (!set) sockets.set(userId, (set = new Set()));
      set.add(socketId);
      return set.size === 1;
    },
    async disconnect(userId, socketId) {
      const set = sockets.get(userId);
      if (!set?.delete(socketId)) return false;
      if (set.size > 0) return false;
      sockets.delete(userId);
      return true;
    },
    async onlineAmong(userIds) {
      return new Set(userIds.filter((id) => (sockets.get(id)?.size ?? 0) > 0));
    },
    async close() {},
  };
}

/**
 * Redis layout: `fc:presence:<userId>` is a sorted set of `<nodeId>:<socketId>` scored by the
 * time the entry expires. Every node refreshes its own sockets' scores on a timer.
 */
export function createRedisPresence(redis: RedisClientType, nodeId: string, ttlSeconds: number): Presence {
  const key = (userId: string) => `fc:presence:${userId}`;
  const local = new Map<string, string>(); // member -> userId, the sockets this node owns
  const ttlMs = ttlSeconds * 1000;
  const live = async (userId: string) => redis.zCount(key(userId), Date.now(), '+inf');

  const timer = setInterval(
    () => {
      const expires = Date.now() + ttlMs;
      const multi = redis.multi();
      for (const [member, userId] of local) {
        multi.zAdd(key(userId), { score: expires, value: member });
        multi.pExpire(key(userId), ttlMs * 2);
      }
      if (local.size > 0) multi.exec().catch(() => {});
    },
    Math.max(1000, ttlMs / 3),
  );
  timer.unref();

  return {
    async connect(userId, socketId) {
      const member = `${nodeId}:${socketId}`;
      local.set(member, userId);
      const now = Date.now();
      const [, , , count] = await redis
        .multi()
        .zRemRangeByScore(key(userId), '-inf', now)
        .zAdd(key(userId), { score: now + ttlMs, value: member })
        .pExpire(key(userId), ttlMs * 2)
        .zCard(key(userId))
        .exec();
      return Number(count) === 1;
    },
    async disconnect(userId, socketId) {
      const member = `${nodeId}:${socketId}`;
      local.delete(member);
      const removed = await redis.zRem(key(userId), member);
      if (removed === 0) return false;
      return (await live(userId)) === 0;
    },
    async onlineAmong(userIds) {
      if (userIds.length === 0) return new Set();
      const now = Date.now();
      const multi = redis.multi();
      for (const id of userIds) multi.zCount(key(id), now, '+inf');
      const counts = await multi.exec();
      return new Set(userIds.filter((_, i) => Number(counts[i]) > 0));
    },
    async close() {
      clearInterval(timer);
      if (local.size > 0) {
        const multi = redis.multi();
        for (const [member, userId] of local) multi.zRem(key(userId), member);
        await multi.exec().catch(() => {});
        local.clear();
      }
    },
  };
}
