// Who is online: a user is online while any of their sockets is connected, on any node
// (DESIGN.md, Rules). In-process by default; in Redis when REDIS_URL is set, where each
// socket entry carries an expiry that its node refreshes, so a crashed node's sockets
// stop counting once their entries expire — and someone has to say so (see the sweep below).
import type { RedisClientType } from 'redis';
import { REDIS_TIMEOUT_MS, withTimeout } from './redis.ts';

export interface Presence {
  /**
   * Records a connected socket; answers how many sockets the user has now, this one included
   * (1: the user just came online).
   */
  connect(userId: string, socketId: string): Promise<number>;
  /** Removes a socket; true when it was the user's last one. */
  disconnect(userId: string, socketId: string): Promise<boolean>;
  onlineAmong(userIds: string[]): Promise<Set<string>>;
  /**
   * Registers who is told about users whose presence changed without a connect or disconnect
   * on this node: a dead node's sockets expired (they may be offline now), or this node had
   * to put its sockets back after Redis lost them (they may be online again). The handler
   * looks at their state now and tells their friends.
   */
  onStale(handler: (userIds: string[]) => void): void;
  close(): Promise<void>;
}

export function createMemoryPresence(): Presence {
  const sockets = new Map<string, Set<string>>();
  return {
    async connect(userId, socketId) {
      let set = sockets.get(userId);
      if (!set) sockets.set(userId, (set = new Set()));
      set.add(socketId);
      return set.size;
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
    // One process: nothing changes behind its back.
    onStale() {},
    async close() {},
  };
}

// KEYS: the user's sockets, the index. ARGV: now, expires, member, userId, key lifetime (ms).
const CONNECT_LUA = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('ZADD', KEYS[2], 'GT', ARGV[2], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`;

// KEYS: the user's sockets, the index. ARGV: now, member, userId. -1 = not there (already gone).
const DISCONNECT_LUA = `
if redis.call('ZREM', KEYS[1], ARGV[2]) == 0 then return -1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if #last == 0 then
  redis.call('ZREM', KEYS[2], ARGV[3])
  return 0
end
redis.call('ZADD', KEYS[2], last[2], ARGV[3])
return redis.call('ZCARD', KEYS[1])
`;

// KEYS: the index. ARGV: now, the prefix of user keys, how many users at most.
// Users whose latest entry has expired: drop their dead entries; those with none left are
// removed from the index and returned. Atomic, so of all the nodes sweeping exactly one
// returns a given user. (It touches keys it derives itself: fine on one Redis, not on a cluster.)
const SWEEP_LUA = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local gone = {}
for _, id in ipairs(due) do
  local k = ARGV[2] .. id
  redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[1])
  local last = redis.call('ZRANGE', k, -1, -1, 'WITHSCORES')
  if #last == 0 then
    redis.call('ZREM', KEYS[1], id)
    table.insert(gone, id)
  else
    redis.call('ZADD', KEYS[1], last[2], id)
  end
end
return gone
`;

export interface RedisPresenceOptions {
  nodeId: string;
  ttlSeconds: number;
  /** Prefix of this app's Redis keys. */
  prefix: string;
  onError?: (err: unknown) => void;
  timeoutMs?: number;
  /** Users whose entries one refresh MULTI carries (default 500). */
  refreshChunk?: number;
}

/**
 * Redis layout: `<prefix>presence:<userId>` is a sorted set of `<nodeId>:<socketId>` scored by
 * the time the entry expires; every node refreshes its own sockets' scores on a timer.
 * `<prefix>presence-index` scores each user with sockets by their latest expiry. On the same
 * timer every node sweeps the index for users whose entries all expired (their node died, or
 * lost Redis for longer than the expiry) and announces them offline.
 *
 * While Redis is away the node answers from its own sockets, and puts them back when it returns.
 */
export function createRedisPresence(redis: RedisClientType, opts: RedisPresenceOptions): Presence {
  const { nodeId, prefix } = opts;
  const onError = opts.onError ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? REDIS_TIMEOUT_MS;
  const refreshChunk = opts.refreshChunk ?? 500;
  const userPrefix = `${prefix}presence:`;
  const key = (userId: string) => userPrefix + userId;
  const indexKey = `${prefix}presence-index`;
  const ttlMs = opts.ttlSeconds * 1000;
  const local = new Map<string, Set<string>>(); // userId -> this node's members for them
  const handlers: ((userIds: string[]) => void)[] = [];
  const member = (socketId: string) => `${nodeId}:${socketId}`;
  // When a call to Redis fails, what this node wrote may be missing there, and other nodes may
  // have swept its users meanwhile. The next refresh puts every entry back, and its ZADD replies
  // say which were missing: only those users are announced again (not every local user, which
  // on a starved node whose calls merely timed out fed the overload: a recount, an upsert and a
  // publish per user, docs/scaling.md).
  const call = <T>(p: Promise<T>, ms = timeoutMs) => withTimeout(p, ms);
  // The timer's own calls are on no one's request path: they may wait longer, which makes a
  // reply lost to a timeout (the command may still run) rarer.
  const background = <T>(p: Promise<T>) => call(p, timeoutMs * 5);

  function stale(userIds: string[]) {
    if (userIds.length === 0) return;
    for (const h of handlers) h(userIds);
  }

  /**
   * Pushes this node's entries' expiry forward; answers the users whose entries may have been gone.
   * A chunk of users at a time, each chunk one MULTI, the event loop free between them: one MULTI
   * for every socket held the node's event loop (building and reading it) and Redis (running it)
   * for tens of ms — 47 ms for 10,000 sockets, 137 ms for 25,000 on an idle machine — and every
   * presence change and message of that moment waited behind it.
   */
  async function refresh(): Promise<string[]> {
    if (local.size === 0) return [];
    const userIds = [...local.keys()];
    const missing = new Set<string>();
    for (let i = 0; i < userIds.length; i += refreshChunk) {
      const expires = Date.now() + ttlMs;
      const multi = redis.multi();
      const owners: (string | null)[] = []; // per command: the user when it is a member's ZADD
      for (const userId of userIds.slice(i, i + refreshChunk)) {
        const members = local.get(userId);
        if (!members) continue; // gone since the refresh began
        for (const m of members) {
          multi.zAdd(key(userId), { score: expires, value: m });
          owners.push(userId);
        }
        multi.pExpire(key(userId), ttlMs * 2);
        multi.zAdd(indexKey, { score: expires, value: userId }, { comparison: 'GT' });
        owners.push(null, null);
      }
      if (owners.length === 0) continue;
      const replies = await background(multi.exec());
      // ZADD answers 1 for a member it had to add: the entry had expired or been swept (this
      // node stalled or lost Redis for longer than the expiry), or its connect never reached Redis.
      owners.forEach((userId, k) => {
        if (userId !== null && Number(replies[k]) === 1) missing.add(userId);
      });
    }
    return [...missing];
  }

  async function sweep(): Promise<string[]> {
    const gone = await background(redis.eval(SWEEP_LUA, { keys: [indexKey], arguments: [String(Date.now()), userPrefix, '200'] }));
    return (gone as string[]).filter((id) => !local.has(id));
  }

  let ticking = false;
  const timer = setInterval(
    () => {
      if (ticking) return;
      ticking = true;
      void (async () => {
        try {
          stale(await refresh());
          stale(await sweep());
        } catch (err) {
          onError(err);
        } finally {
          ticking = false;
        }
      })();
    },
    // Three refreshes per expiry: one late tick does not let a live socket expire.
    Math.max(100, ttlMs / 3),
  );
  timer.unref();

  const localCount = (userId: string) => local.get(userId)?.size ?? 0;

  return {
    async connect(userId, socketId) {
      let members = local.get(userId);
      if (!members) local.set(userId, (members = new Set()));
      members.add(member(socketId));
      try {
        const now = Date.now();
        const count = await call(
          redis.eval(CONNECT_LUA, {
            keys: [key(userId), indexKey],
            arguments: [String(now), String(now + ttlMs), member(socketId), userId, String(ttlMs * 2)],
          }),
        );
        return Number(count);
      } catch (err) {
        // Redis away: this node's own view. The refresh puts the entry back when Redis returns.
        onError(err);
        return localCount(userId);
      }
    },
    async disconnect(userId, socketId) {
      const members = local.get(userId);
      if (!members?.delete(member(socketId))) return false;
      if (members.size === 0) local.delete(userId);
      try {
        const left = await call(
          redis.eval(DISCONNECT_LUA, { keys: [key(userId), indexKey], arguments: [String(Date.now()), member(socketId), userId] }),
        );
        return Number(left) === 0;
      } catch (err) {
        // Redis away: the entry expires there on its own, and the sweep tells the other nodes.
        onError(err);
        return localCount(userId) === 0;
      }
    },
    async onlineAmong(userIds) {
      if (userIds.length === 0) return new Set();
      try {
        const now = Date.now();
        const multi = redis.multi();
        for (const id of userIds) multi.zCount(key(id), now, '+inf');
        const counts = await call(multi.exec());
        return new Set(userIds.filter((_, i) => Number(counts[i]) > 0));
      } catch (err) {
        onError(err);
        return new Set(userIds.filter((id) => localCount(id) > 0));
      }
    },
    onStale(handler) {
      handlers.push(handler);
    },
    async close() {
      clearInterval(timer);
      if (local.size === 0) return;
      const multi = redis.multi();
      for (const [userId, members] of local) {
        for (const m of members) {
          multi.eval(DISCONNECT_LUA, { keys: [key(userId), indexKey], arguments: [String(Date.now()), m, userId] });
        }
      }
      local.clear();
      await call(multi.exec()).catch(onError);
    },
  };
}
