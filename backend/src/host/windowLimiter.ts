// Fixed-window budgets from rate-limiter-flexible (the demo host's sign-up and sign-in
// attempts), over the demo's own Redis connection when it has one.
import type { RedisClientType } from 'redis';
import { RateLimiterMemory, RateLimiterRedis, RLWrapperTimeouts, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** How long a call waits for Redis before this node's own counter answers. */
const REDIS_TIMEOUT_MS = 1000;

export interface WindowLimiterOptions {
  /** Prefix of this app's Redis keys. */
  prefix?: string;
  /** Told each time this node counts on its own because Redis is away. */
  onError?: (err: unknown) => void;
  timeoutMs?: number;
}

/** The memory limiter that stands in for Redis, telling `report` each time it does. */
class ReportingMemoryLimiter extends RateLimiterMemory {
  constructor(
    opts: ConstructorParameters<typeof RateLimiterMemory>[0],
    private readonly report: () => void,
  ) {
    super(opts);
  }
  override consume(...args: Parameters<RateLimiterMemory['consume']>) {
    this.report();
    return super.consume(...args);
  }
  override reward(...args: Parameters<RateLimiterMemory['reward']>) {
    this.report();
    return super.reward(...args);
  }
  override delete(...args: Parameters<RateLimiterMemory['delete']>) {
    this.report();
    return super.delete(...args);
  }
}

/**
 * A fixed-window counter from rate-limiter-flexible (`points` per `durationSeconds` per key),
 * for budgets such as sign-in attempts. With Redis it is one counter across all nodes; while
 * Redis is away (a call fails, or does not answer within REDIS_TIMEOUT_MS) the same counter is
 * kept in this node's memory instead, as the library's `insuranceLimiter`, so the limit still
 * holds per node. Memory counters expire by timer: no scan over all keys.
 */
export function createWindowLimiter(
  redis: RedisClientType | null,
  name: string,
  points: number,
  durationSeconds: number,
  opts: WindowLimiterOptions = {},
): RateLimiterAbstract {
  const keyPrefix = `${opts.prefix ?? 'fc:'}${name}`;
  if (!redis) return new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds });
  const shared = new RateLimiterRedis({
    storeClient: redis,
    useRedisPackage: true, // node-redis v4+ (v5 here), not ioredis
    rejectIfRedisNotReady: true, // fall back at once while disconnected
    keyPrefix,
    points,
    duration: durationSeconds,
  });
  // The library turns to the insurance limiter without saying why; report the fallback the
  // way the node's other limiters do.
  const onError = opts.onError ?? (() => {});
  const insurance = new ReportingMemoryLimiter({ keyPrefix, points, duration: durationSeconds }, () =>
    onError(new Error(`redis unavailable: ${name} counted on this node`)),
  );
  return new RLWrapperTimeouts({ limiter: shared, timeoutMs: opts.timeoutMs ?? REDIS_TIMEOUT_MS, insuranceLimiter: insurance });
}
