// A node's Redis connections, and how they behave while Redis is away. The node keeps serving
// its own clients then: presence and rate limits fall back to what the node knows itself
// (presence.ts, rateLimiter.ts), and everything reconnects on its own when Redis returns. The
// pushes that Redis could not carry meanwhile are made up for by resync.ts.
import { createHash } from 'node:crypto';
import { createClient, type RedisClientType } from 'redis';
import type { Logger } from '../logger.ts';

/** How long a presence or rate-limit call waits for Redis before the caller falls back. */
export const REDIS_TIMEOUT_MS = 1000;
/**
 * How long `published()` waits at most: a send is answered after this even if Redis has not
 * answered its publish (the message is stored; a publish that then fails makes the clients
 * concerned sync, resync.ts).
 */
export const PUBLISH_WAIT_MS = 1000;

export interface RedisConnections {
  /**
   * Presence, rate limits, health. No offline queue: while disconnected a command fails at once
   * (and the caller falls back) instead of waiting, possibly forever, to run late.
   */
  store: RedisClientType;
  /** The Socket.IO adapter's pair. Its publishes queue while disconnected (bounded) and go out on reconnect. */
  pub: RedisClientType;
  sub: RedisClientType;
  /**
   * Runs each time `sub` is ready again after its connection was lost (not at the first connect),
   * once its subscriptions are back and `pub` is ready too: what other nodes published meanwhile
   * never reached this node.
   */
  onSubscriberBack(handler: () => void): void;
  /** Runs for each publish through `pub` that failed, with its channel and message: no node got it. */
  onPublishDropped(handler: (channel: string, message: string | Buffer) => void): void;
  /**
   * Resolves once every publish through `pub` issued so far was answered by Redis or failed, or
   * after PUBLISH_WAIT_MS; at once when none is pending or `pub` is not ready (Redis away: its
   * publishes wait in the offline queue, and resync.ts makes up for them). Never rejects.
   */
  published(): Promise<void>;
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
  // Those pushes are lost for the clients of other nodes until they sync: they are logged as
  // errors (at most one line per 10 s, with the count), and onPublishDropped's handlers
  // (realtime/resync.ts) make the clients concerned reconnect and sync.
  //
  // `latest`: the calls of published() waiting for the last publish issued, until it settles.
  // node-redis writes the commands of a connection in the order they were issued and Redis
  // answers them in that order, so once the latest is answered (or failed) every earlier one is
  // too. Its queue settles a command out of that order in two cases only: a per-command timeout
  // or abort signal, which the adapter never sets, and a full queue, which rejects the new
  // command at once (Redis away or stalled: the earlier ones stay pending, bounded by
  // PUBLISH_WAIT_MS for their own callers, who called published() right after them).
  const publish = pub.publish.bind(pub);
  const droppedHandlers: ((channel: string, message: string | Buffer) => void)[] = [];
  let dropped = 0;
  let lastReport = 0;
  let latest: (() => void)[] | null = null;
  Object.defineProperty(pub, 'publish', {
    value: (...args: Parameters<typeof publish>) => {
      const waiters: (() => void)[] = [];
      latest = waiters;
      const settled = () => {
        if (latest === waiters) latest = null;
        for (const w of waiters) w();
      };
      return publish(...args).then(
        (receivers) => {
          settled();
          return receivers;
        },
        (err: Error) => {
          dropped++;
          const now = Date.now();
          if (now - lastReport >= 10_000) {
            logger.error(`redis: ${dropped} push(es) to other nodes dropped (${err.message}); their clients are made to reconnect and sync`);
            dropped = 0;
            lastReport = now;
          }
          for (const h of droppedHandlers) h(String(args[0]), args[1] as string | Buffer);
          settled();
          return 0;
        },
      );
    },
  });
  // One promise and one timer per call.
  const published = (): Promise<void> => {
    const waiters = latest;
    if (waiters === null || !pub.isReady) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PUBLISH_WAIT_MS);
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  // `ready` comes once per connection, after node-redis has subscribed again to what it had:
  // every `ready` of `sub` after the first is a return after a loss. The handlers run once `pub`
  // is ready too, so that what it queued meanwhile has gone out (see onSubscriberBack's callers).
  const backHandlers: (() => void)[] = [];
  let subConnected = false;
  let subBack = false;
  const runBack = () => {
    if (!subBack || !sub.isReady || !pub.isReady) return;
    subBack = false;
    for (const h of backHandlers) h();
  };
  sub.on('ready', () => {
    subBack = subConnected;
    subConnected = true;
    runBack();
  });
  pub.on('ready', runBack);

  await Promise.all(clients.map((c) => c.connect()));
  return {
    store,
    pub,
    sub,
    onSubscriberBack: (handler) => void backHandlers.push(handler),
    onPublishDropped: (handler) => void droppedHandlers.push(handler),
    published,
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
