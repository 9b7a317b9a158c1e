// With `redis`, the chat runs as one of several nodes and relies on the host's Socket.IO adapter
// to carry its pushes to the others. attach() checks the adapter's kind at once
// (adapterLinksNodes); this checks what it does, for any adapter: every attached node keeps an
// entry in Redis, and compares how many chat nodes are live with how many servers its adapter
// says it reaches (`serverCount()`, which every Socket.IO adapter has). An adapter that reaches
// fewer servers than there are chat nodes does not link them, whatever its class.
import type { RedisClientType } from 'redis';

export interface AdapterReachOptions {
  store: RedisClientType;
  /** The module's Redis prefix: nodes of one chat share it. */
  prefix: string;
  nodeId: string;
  namespace: string;
  /** The namespace's adapter, as Socket.IO has it now (a host may replace it). */
  serverCount: () => Promise<number>;
  intervalMs: number;
  /** The adapter reaches fewer servers than there are chat nodes (once, until it changes). */
  warn: (message: string) => void;
  /** It reaches them all again. */
  recovered: (message: string) => void;
  onError: (err: unknown) => void;
}

export interface AdapterReach {
  /** One round: refresh this node's entry, count, compare. Returns what it saw. */
  check(): Promise<{ chatNodes: number; reached: number }>;
  close(): Promise<void>;
}

/**
 * A node's entry lives three intervals, so a live node is never missed; the mismatch is reported
 * once it has lasted longer than that, so neither a node that just started (its adapter may not
 * have met the others yet) nor one that died (its entry outlives it) raises a false alarm.
 */
export function watchAdapterReach(opts: AdapterReachOptions): AdapterReach {
  const key = `${opts.prefix}chat-nodes:${opts.namespace}`;
  const ttlMs = opts.intervalMs * 3;
  const mustLast = ttlMs + opts.intervalMs;
  let since: number | null = null;
  let reported = false;
  let closed = false;

  async function check(): Promise<{ chatNodes: number; reached: number }> {
    const now = Date.now();
    const [, , chatNodes] = (await opts.store
      .multi()
      .zAdd(key, { score: now + ttlMs, value: opts.nodeId })
      .zRemRangeByScore(key, '-inf', now)
      .zCard(key)
      .pExpire(key, ttlMs)
      .exec()) as unknown as [number, number, number, number];
    const reached = await opts.serverCount();
    if (reached >= chatNodes) {
      since = null;
      if (reported) opts.recovered(`friend-chat: the Socket.IO adapter of namespace ${JSON.stringify(opts.namespace)} now reaches all ${chatNodes} chat nodes.`);
      reported = false;
    } else {
      since ??= now;
      if (!reported && now - since >= mustLast) {
        reported = true;
        opts.warn(
          `friend-chat: ${chatNodes} chat nodes share the Redis prefix ${JSON.stringify(opts.prefix)}, but the Socket.IO adapter of namespace ` +
            `${JSON.stringify(opts.namespace)} reaches only ${reached} server(s) (its serverCount()): pushes, friendship changes and closed ` +
            'sessions do not reach the other nodes. Give every node’s Socket.IO server an adapter that links them (e.g. @socket.io/redis-adapter) before chat.attach(io).',
        );
      }
    }
    return { chatNodes, reached };
  }

  const run = () => {
    if (!closed) check().catch(opts.onError);
  };
  run();
  const timer = setInterval(run, opts.intervalMs);
  timer.unref();
  return {
    check,
    async close() {
      closed = true;
      clearInterval(timer);
      await opts.store.zRem(key, opts.nodeId).catch(() => {});
    },
  };
}
