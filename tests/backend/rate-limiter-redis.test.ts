// The shared message rate limit in Redis (realtime/rateLimiter.ts): the takes of one turn of the
// event loop go to Redis in one script call, and each still gets the answer it would have had
// alone, in arrival order; while Redis is away the node counts on its own.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisClientType } from 'redis';
import { createRedisRateLimiter } from '../../backend/src/realtime/rateLimiter.ts';

const url = process.env.REDIS_URL;
if (!url) console.warn('rate-limiter-redis.test.ts: skipped: set REDIS_URL to run it');

describe.skipIf(!url)('Redis rate limiter', () => {
  let redis: RedisClientType;
  let scriptCalls = 0;
  beforeAll(async () => {
    redis = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
    await redis.connect();
    // Counts the script calls the limiter makes (each is one round trip).
    const evalSha = redis.evalSha.bind(redis);
    Object.defineProperty(redis, 'evalSha', {
      value: (...args: Parameters<typeof evalSha>) => {
        scriptCalls++;
        return evalSha(...args);
      },
    });
  });
  afterAll(async () => {
    await redis?.quit();
  });
  const prefix = () => `test:${randomUUID()}:`;

  it('answers a burst of many users in one round trip, each bucket in arrival order', async () => {
    const limiter = createRedisRateLimiter(redis, 5, { prefix: prefix() });
    const at = Date.now();
    const before = scriptCalls;
    const [a, b] = await Promise.all([
      Promise.all(Array.from({ length: 8 }, () => limiter.take('alice', at))),
      Promise.all(Array.from({ length: 3 }, () => limiter.take('bob', at))),
    ]);
    expect(a).toEqual([true, true, true, true, true, false, false, false]);
    expect(b).toEqual([true, true, true]);
    expect(scriptCalls - before).toBe(1);
    // A second later alice's bucket is full again; bob's too.
    expect(await limiter.take('alice', at + 1000)).toBe(true);
  });

  it('splits a burst larger than maxBatch into several calls with the same answers', async () => {
    const limiter = createRedisRateLimiter(redis, 3, { prefix: prefix(), maxBatch: 4 });
    const at = Date.now();
    const before = scriptCalls;
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => limiter.take(i < 5 ? 'carol' : 'dave', at)));
    expect(answers).toEqual([true, true, true, false, false, true, true, true, false, false]);
    expect(scriptCalls - before).toBe(3);
  });

  it('shares the bucket between two limiters (two nodes)', async () => {
    const p = prefix();
    const one = createRedisRateLimiter(redis, 4, { prefix: p });
    const two = createRedisRateLimiter(redis, 4, { prefix: p });
    const at = Date.now();
    const answers = await Promise.all([one.take('erin', at), two.take('erin', at), one.take('erin', at), two.take('erin', at), one.take('erin', at)]);
    expect(answers.filter(Boolean)).toHaveLength(4);
  });

  it('counts on this node while Redis does not answer, the limit still holding', async () => {
    const gone = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
    await gone.connect();
    await gone.quit();
    const errors: unknown[] = [];
    const limiter = createRedisRateLimiter(gone, 5, { prefix: prefix(), onError: (e) => errors.push(e) });
    const at = Date.now();
    const answers = await Promise.all(Array.from({ length: 7 }, () => limiter.take('frank', at)));
    expect(answers).toEqual([true, true, true, true, true, false, false]);
    expect(errors.length).toBeGreaterThan(0);
  });
});
