// A node's Redis connections, and how they behave while Redis is away. The node keeps serving
// its own clients then: presence and rate limits fall back to what the node knows itself
// (presence.ts, rateLimiter.ts), and everything reconnects on its own when Redis returns.
import { createHash } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../logger.ts';

/** How long a presence or rate-limit call waits for Redis before the caller falls back. */
export const REDIS_TIMEOUT_MS = 1000;

export interface RedisConnections {
  /**
   * Presence, rate limits, health. No offline queue: while disconnected a command fails at once
   * (and the caller falls back) instead of waiting, possibly forever, to run late.
   */
  store: RedisClientType;
  /** The Socket.IO adapter's pair. Its publishes queue while disconnected (bounded) and go out on reconnect. */
  pub: RedisClientType;
  sub: RedisClientType;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export class RedisTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** `p`, or a RedisTimeoutError after `ms` (a connection that hangs without closing). */
export function withTimeout<T>(p: Promise<T>, ms = REDIS_TIMEOUT_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RedisTimeoutError(ms)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export async function openRedis(url: string, logger: Logger): Promise<RedisConnections> {
  const log = (message: string) => logger.debug(message);
  const store = createClient({ url, disableOfflineQueue: true }) as RedisClientType;
  const pub = store.duplicate({ disableOfflineQueue: false, commandsQueueMaxLength: 10_000 }) as RedisClientType;
  const sub = store.duplicate({ disableOfflineQueue: false }) as RedisClientType;
  const clients = [store, pub, sub];
  // Errors while Redis is away are reported here and retried by the client; the node keeps
  // serving. The loss and the return are logged once each; the retries only at debug level.
  for (const c of clients) c.on('error', (err: Error) => log(`redis: ${err.message}`));
  let up = false;
  store.on('ready', () => {
    if (!up) logger.info('redis connected');
    up = true;
  });
  store.on('error', (err: Error) => {
    if (up) logger.error(`redis connection lost (${err.message}); serving this node's clients until it returns`);
    up = false;
  });

  // The adapter publishes without looking at the answer. A publish that fails (the connection
  // dropped with it in flight, or the offline queue is full) would be an unhandled rejection,
  // and that ends a Node process. What it carried is stored; clients catch up through sync.
  const publish = pub.publish.bind(pub);
  Object.defineProperty(pub, 'publish', {
    value: (...args: Parameters<typeof publish>) =>
      publish(...args).catch((err: Error) => {
        log(`redis publish failed: ${err.message}`);
        return 0;
      }),
  });

  await Promise.all(clients.map((c) => c.connect()));
  return {
    store,
    pub,
    sub,
    // Healthy only with all three connections back: the adapter's pair is what carries other
    // nodes' events to this one, and each reconnects on its own schedule.
    ping: async () => {
      if (!pub.isReady || !sub.isReady) return false;
      return withTimeout(store.ping()).then(
        () => true,
        () => false,
      );
    },
    async close() {
      // A graceful QUIT waits for Redis; when it is away, drop the connection instead.
      await Promise.all(
        clients.map((c) =>
          withTimeout(c.close()).catch(() => {
            try {
              c.destroy();
            } catch {
              // already closed
            }
          }),
        ),
      );
    },
  };
}

/**
 * A Lua script run by its SHA (EVALSHA: the script's text is not sent on every call), loaded
 * with EVAL the first time and again whenever Redis answers NOSCRIPT (it restarted or was
 * flushed).
 */
export function luaScript(source: string) {
  const sha = createHash('sha1').update(source).digest('hex');
  return async (redis: RedisClientType, options: { keys: string[]; arguments: string[] }): Promise<unknown> => {
    try {
      return await redis.evalSha(sha, options);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(source, options);
    }
  };
}
