// Which messages' pushes went out through Redis, for the resend of a message whose node died
// before answering it. The sender's client then sends the same clientId to another node, which
// finds the message stored and answers with it; but the dying node may never have published the
// push, and a recipient whose socket is on a node that stayed up would not see the message until
// its next sync. So each node notes that a new message's push went out, on the adapter's
// publishing connection after the publish: Redis runs a connection's commands in order, so a mark
// it holds means the publish reached it first. A resend of a message without a mark pushes it
// again; clients keep messages by id, so a push that did go out after all (the node died between
// the publish and the mark) shows nothing twice.
//
// The marks of one turn of the event loop go in one `HSET` to a hash per PUSH_MARK_BUCKET_SECONDS
// (`<prefix>pushed:<bucket>`, expiring after PUSH_MARK_SECONDS more): under load a turn holds many
// sends, and one command per message more on the publishing connection made its queue of 10,000
// fill (and publishes fail) when a node answered a burst of retried sends.
import type { RedisClientType } from 'redis';
import { REDIS_TIMEOUT_MS, withTimeout } from './redis.ts';

/** How long a mark is kept at least: a client resends unanswered messages within seconds of reconnecting. */
export const PUSH_MARK_SECONDS = 600;
/** The marks of this many seconds share a hash. */
export const PUSH_MARK_BUCKET_SECONDS = 300;

export interface PushMarks {
  /** Notes that the push of this message was just published (call right after the emit). */
  mark(messageId: string): void;
  /** Whether that push went out: false without a mark, or when Redis does not answer. */
  seen(messageId: string): Promise<boolean>;
}

/**
 * `pub`: the adapter's publishing connection (the marks must follow the publishes on it). `store`:
 * another connection, for reading marks: the publishing one can be congested when a node takes
 * over a dead one's clients, and a read that times out counts as no mark.
 */
export function createPushMarks(
  pub: RedisClientType,
  store: RedisClientType,
  prefix: string,
  onError: (err: unknown) => void = () => {},
  now: () => number = Date.now,
): PushMarks {
  const bucketOf = (ms: number) => Math.floor(ms / 1000 / PUSH_MARK_BUCKET_SECONDS);
  const key = (bucket: number) => `${prefix}pushed:${bucket}`;
  let pending: string[] = [];
  // After the emits of this turn (their publishes are queued already): one HSET for them all.
  const flush = () => {
    const ids = pending;
    pending = [];
    const bucket = bucketOf(now());
    pub.hSet(key(bucket), Object.fromEntries(ids.map((id) => [id, '1']))).catch(onError);
    pub.expire(key(bucket), PUSH_MARK_SECONDS + PUSH_MARK_BUCKET_SECONDS).catch(onError);
  };
  return {
    mark(messageId) {
      // Also while Redis is away: the mark waits in the offline queue behind the publish and goes
      // out with it (a resend after the reconnect, finding no mark, would push it a second time).
      pending.push(messageId);
      if (pending.length === 1) process.nextTick(flush);
    },
    async seen(messageId) {
      if (!store.isReady) return false;
      // The buckets a mark of the last PUSH_MARK_SECONDS can be in, in one round trip.
      const last = bucketOf(now());
      const first = bucketOf(now() - PUSH_MARK_SECONDS * 1000);
      const multi = store.multi();
      for (let b = first; b <= last; b++) multi.hExists(key(b), messageId);
      try {
        const found = (await withTimeout(multi.exec(), REDIS_TIMEOUT_MS)) as unknown[];
        return found.some((v) => v === 1 || v === true);
      } catch (err) {
        onError(err);
        return false;
      }
    },
  };
}
