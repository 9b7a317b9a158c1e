// Per-user token bucket (DESIGN.md, Rules): capacity = rate, refilled `rate` tokens per
// second, shared by every tab and node of a user. Redis-backed when REDIS_URL is set.
import type { RedisClientType } from 'redis';
import { luaScript, withTimeout } from './redis.ts';

export interface RateLimiter {
  /**
   * Takes one token for `key`; false when the bucket is empty. `at` is when the request
   * arrived (default: now). Refilling by arrival time, not by the time the check runs, keeps a
   * burst a burst even when the checks before it (storage, friendship) are slow: otherwise
   * a loaded server would let more of a burst through the slower it answered. A request that
   * arrived before the bucket's last update refills nothing.
   */
  take(key: string, at?: number): Promise<boolean>;
  /** Gives back a token taken for a request that turned out not to count (an idempotent resend). */
  refund(key: string): Promise<void>;
}

export function createMemoryRateLimiter(rate: number, now: () => number = Date.now): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return {
    async take(key, arrived) {
      const t = now();
      // Forget full buckets now and then so the map does not grow with every user ever seen.
      if (t - lastSweep > 60_000) {
        for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * rate >= rate) buckets.delete(k);
        lastSweep = t;
      }
      const at = Math.min(arrived ?? t, t);
      const b = buckets.get(key) ?? { tokens: rate, at };
      b.tokens = Math.min(rate, b.tokens + (Math.max(0, at - b.at) / 1000) * rate);
      b.at = Math.max(b.at, at);
      buckets.set(key, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    async refund(key) {
      const b = buckets.get(key);
      if (b) b.tokens = Math.min(rate, b.tokens + 1);
    },
  };
}

// One round trip for every take of a batch, atomic: for each request in order (KEYS[i] arrived
// at ARGV[i + 1]), refill by elapsed time and take a token if there is one. A key asked twice in
// one batch sees its first take. Answers one 0/1 per request.
const TOKEN_BUCKETS_LUA = `
local rate = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS do
  local now = tonumber(ARGV[i + 1])
  local b = redis.call('HMGET', KEYS[i], 't', 'a')
  local tokens = tonumber(b[1])
  local at = tonumber(b[2])
  if tokens == nil then tokens = rate; at = now end
  tokens = math.min(rate, tokens + (math.max(0, now - at) / 1000) * rate)
  local ok = 0
  if tokens >= 1 then tokens = tokens - 1; ok = 1 end
  redis.call('HSET', KEYS[i], 't', tostring(tokens), 'a', tostring(math.max(at, now)))
  -- capacity = rate, so an untouched bucket is full again after one second
  redis.call('PEXPIRE', KEYS[i], 2000)
  out[i] = ok
end
return out
`;

const REFUND_LUA = `
local t = tonumber(redis.call('HGET', KEYS[1], 't'))
if t ~= nil then redis.call('HSET', KEYS[1], 't', tostring(math.min(tonumber(ARGV[1]), t + 1))) end
return 0
`;

const tokenBuckets = luaScript(TOKEN_BUCKETS_LUA);
const refundToken = luaScript(REFUND_LUA);

export interface RedisLimiterOptions {
  /** Prefix of this app's Redis keys. */
  prefix?: string;
  /** Takes sent to Redis in one script call at most (default 500). */
  maxBatch?: number;
  onError?: (err: unknown) => void;
  timeoutMs?: number;
}

/** Runs the Redis call; if it fails or does not answer in time, reports it and runs the node's own. */
function fallingBack(opts: RedisLimiterOptions) {
  const onError = opts.onError ?? (() => {});
  return async <T>(viaRedis: () => Promise<T>, onThisNode: () => Promise<T>): Promise<T> => {
    try {
      return await withTimeout(viaRedis(), opts.timeoutMs);
    } catch (err) {
      onError(err);
      return onThisNode();
    }
  };
}

/**
 * The shared bucket in Redis. The takes that arrive in one turn of the event loop (under load,
 * every send of a batch of socket packets) go to Redis together, in one script call: one round
 * trip for all of them instead of one per message. While Redis is away (a call fails or does not
 * answer in time) each node counts on its own: the limit still holds per node, and sends keep
 * working.
 */
export function createRedisRateLimiter(redis: RedisClientType, rate: number, opts: RedisLimiterOptions = {}): RateLimiter {
  const prefix = `${opts.prefix ?? 'fc:'}rl:`;
  const maxBatch = Math.max(1, opts.maxBatch ?? 500);
  const orFallback = fallingBack(opts);
  const fallback = createMemoryRateLimiter(rate);
  type Take = { key: string; at: number; resolve: (ok: boolean) => void };
  let queue: Take[] = [];

  async function flush(batch: Take[]): Promise<void> {
    const answers = await orFallback(
      async () => {
        const out = (await tokenBuckets(redis, {
          keys: batch.map((t) => prefix + t.key),
          arguments: [String(rate), ...batch.map((t) => String(t.at))],
        })) as number[];
        return out.map((n) => n === 1);
      },
      // In arrival order, as Redis would have.
      async () => {
        const local: boolean[] = [];
        for (const t of batch) local.push(await fallback.take(t.key, t.at));
        return local;
      },
    );
    batch.forEach((t, i) => t.resolve(answers[i] === true));
  }

  return {
    take(key, at = Date.now()) {
      return new Promise<boolean>((resolve) => {
        queue.push({ key, at, resolve });
        if (queue.length > 1) return;
        setImmediate(() => {
          const all = queue;
          queue = [];
          for (let i = 0; i < all.length; i += maxBatch) void flush(all.slice(i, i + maxBatch));
        });
      });
    },
    async refund(key) {
      await orFallback(
        async () => void (await refundToken(redis, { keys: [prefix + key], arguments: [String(rate)] })),
        () => fallback.refund(key),
      );
    },
  };
}
