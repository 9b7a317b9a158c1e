// Follow and unfollow actions per user and minute (FOLLOW_RATE_LIMIT), so nobody can flood
// someone by cycling. rate-limiter-flexible: with Redis one counter per user shared by every
// node; without it, or while Redis is away or slow, this node's own memory.
import type { RedisClientType } from 'redis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts } from 'rate-limiter-flexible';
/** How long a call waits for Redis before this node's own counter answers. */
const REDIS_TIMEOUT_MS = 1000;

export interface FollowLimiter {
  /** Counts one action of `userId`; false when their budget for this minute is spent. */
  take(userId: string): Promise<boolean>;
}

export const unlimited: FollowLimiter = { take: async () => true };

export function createFollowLimiter(perMinute: number, redis?: { client: RedisClientType; prefix: string }): FollowLimiter {
  const window = { points: perMinute, duration: 60 };
  const memory = new RateLimiterMemory(window);
  const limiter = redis
    ? new RLWrapperTimeouts({
        limiter: new RateLimiterRedis({
          ...window,
          storeClient: redis.client,
          useRedisPackage: true,
          keyPrefix: `${redis.prefix}follows`,
          // Disconnected: straight to this node's counter instead of failing.
          rejectIfRedisNotReady: true,
          insuranceLimiter: memory,
        }),
        timeoutMs: REDIS_TIMEOUT_MS,
        insuranceLimiter: memory,
      })
    : memory;
  return {
    async take(userId) {
      try {
        await limiter.consume(userId);
        return true;
      } catch (err) {
        if (err instanceof RateLimiterRes) return false;
        throw err;
      }
    },
  };
}
