// Per-user budgets for socket requests, shared by all of a user's sockets and nodes: one user
// with many sockets cannot take more than their share of the database (issue 11: 30 sockets ×
// 80 `chat:sync`/s stalled everyone else). rate-limiter-flexible keeps the count: in Redis when
// REDIS_URL is set, in this process otherwise. While Redis is away (a call fails or does not
// answer in time) each node counts on its own, as the message rate limit does.
import type { RedisClientType } from 'redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { withTimeout } from './redis.ts';

export interface EventBudget {
  /** Spends one unit of `key`'s budget; false when it is spent for this second. */
  take(key: string): Promise<boolean>;
}

export interface EventBudgetOptions {
  /** Units per key per second. */
  perSecond: number;
  /** Redis-backed when given. */
  redis?: RedisClientType | null;
  /** Prefix of this app's Redis keys. */
  prefix?: string;
  onError?: (err: unknown) => void;
  timeoutMs?: number;
}

const spent = (res: unknown): res is RateLimiterRes => res instanceof RateLimiterRes;

export function createEventBudget(opts: EventBudgetOptions): EventBudget {
  const limits = { points: opts.perSecond, duration: 1 };
  const memory = new RateLimiterMemory(limits);
  const onThisNode = (key: string) => memory.consume(key).then(() => true, (res: unknown) => (spent(res) ? false : Promise.reject(res)));
  if (!opts.redis) return { take: onThisNode };

  const shared = new RateLimiterRedis({
    ...limits,
    storeClient: opts.redis,
    useRedisPackage: true,
    keyPrefix: `${opts.prefix ?? 'fc:'}budget`,
    // Not connected: fail at once (and count here) rather than queue.
    rejectIfRedisNotReady: true,
  });
  const onError = opts.onError ?? (() => {});
  return {
    async take(key) {
      try {
        await withTimeout(shared.consume(key), opts.timeoutMs);
        return true;
      } catch (err) {
        if (spent(err)) return false;
        onError(err);
        return onThisNode(key);
      }
    },
  };
}
