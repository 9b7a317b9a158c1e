// The marks of pushes that went out through Redis (realtime/pushMarks.ts): the marks of one turn
// of the event loop go in one command on the publishing connection, after that turn's publishes,
// and a mark is found for PUSH_MARK_SECONDS whichever hash (time bucket) it went to.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type RedisClientType } from 'redis';
import { createPushMarks, PUSH_MARK_BUCKET_SECONDS, PUSH_MARK_SECONDS } from '../../backend/src/realtime/pushMarks.ts';

const url = process.env.REDIS_URL;
if (!url) console.warn('push-marks.test.ts: skipped: set REDIS_URL to run it');

describe.skipIf(!url)('push marks', () => {
  let pub: RedisClientType;
  let store: RedisClientType;
  let monitor: RedisClientType;
  /** The commands Redis ran (MONITOR), in the order it ran them. */
  const ran: string[] = [];
  beforeAll(async () => {
    pub = createClient({ url }) as RedisClientType;
    store = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
    monitor = createClient({ url }) as RedisClientType;
    await Promise.all([pub.connect(), store.connect(), monitor.connect()]);
    await monitor.monitor((line) => ran.push(line));
  });
  afterAll(async () => {
    await Promise.all([pub?.quit(), store?.quit(), monitor?.disconnect()]);
  });

  it('marks the pushes of one turn in one command, after that turn’s publishes, and finds them', async () => {
    const prefix = `test:${randomUUID()}:`;
    const marks = createPushMarks(pub, store, prefix);
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) {
      void pub.publish(`${prefix}channel`, id);
      marks.mark(id);
    }
    await new Promise((r) => setTimeout(r, 100));
    const mine = ran.filter((l) => l.includes(prefix)).map((l) => /"([a-z]+)"/i.exec(l)![1]!.toUpperCase());
    // Three publishes, then one HSET holding the three ids (and its EXPIRE).
    expect(mine).toEqual(['PUBLISH', 'PUBLISH', 'PUBLISH', 'HSET', 'EXPIRE']);
    const hset = ran.find((l) => l.includes(prefix) && /"hset"/i.test(l))!;
    for (const id of ids) expect(hset).toContain(id);
    for (const id of ids) expect(await marks.seen(id)).toBe(true);
    expect(await marks.seen(randomUUID())).toBe(false);
    // The hash expires: kept at least PUSH_MARK_SECONDS.
    const ttl = await store.ttl(`${prefix}pushed:${Math.floor(Date.now() / 1000 / PUSH_MARK_BUCKET_SECONDS)}`);
    expect(ttl).toBeGreaterThanOrEqual(PUSH_MARK_SECONDS);
  });

  it('finds a mark PUSH_MARK_SECONDS later, in an older bucket, and not after that', async () => {
    const prefix = `test:${randomUUID()}:`;
    let clock = Date.now();
    const marks = createPushMarks(pub, store, prefix, () => {}, () => clock);
    const id = randomUUID();
    marks.mark(id);
    await new Promise((r) => setTimeout(r, 50));
    clock += PUSH_MARK_SECONDS * 1000;
    expect(await marks.seen(id)).toBe(true);
    clock += (PUSH_MARK_BUCKET_SECONDS + 1) * 1000;
    expect(await marks.seen(id)).toBe(false);
  });

  it('answers false, at once, while Redis is away', async () => {
    const away = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
    const marks = createPushMarks(pub, away, `test:${randomUUID()}:`);
    const started = Date.now();
    expect(await marks.seen(randomUUID())).toBe(false); // never connected: not ready
    expect(Date.now() - started).toBeLessThan(100);
  });
});
