// Login and registration attempts: at most `limit` per key per window, shared across nodes in
// Redis when the demo has one (a fixed-window counter), this node's own count otherwise or
// while Redis is away.
import type { RedisClientType } from 'redis';

export interface WindowLimiter {
  hit(key: string): Promise<boolean>;
}

export function createMemoryWindowLimiter(limit: number, windowMs: number, now: () => number = Date.now): WindowLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async hit(key) {
      const t = now();
      if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= windowMs) windows.delete(k);
      const w = windows.get(key);
      if (!w || t - w.start >= windowMs) {
        windows.set(key, { start: t, count: 1 });
        return true;
      }
      return ++w.count <= limit;
    },
  };
}

export function createLoginLimiter(redis: RedisClientType | null, limit: number, windowMs: number, prefix: string): WindowLimiter {
  const local = createMemoryWindowLimiter(limit, windowMs);
  if (!redis) return local;
  return {
    async hit(key) {
      const k = `${prefix}wl:${key}`;
      try {
        const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('redis timeout')), 1000).unref());
        const [count] = await Promise.race([redis.multi().incr(k).pExpire(k, windowMs, 'NX').exec(), timeout]);
        return Number(count) <= limit;
      } catch {
        return local.hit(key);
      }
    },
  };
}
