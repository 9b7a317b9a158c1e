// Pushes that Redis never carried: another node's, published while this node's subscription was
// away (Redis restarted, or this node's connection to it dropped), and this node's own, whose
// publish failed (in flight when the connection dropped, or the queue was full). What they carried
// is stored, so the clients concerned catch up through the sync every client runs when it
// reconnects (DESIGN.md, docs/protocol.md §5): the node closes their connections (the transport,
// as a network drop would: every Socket.IO client reconnects by itself then), spread over a few
// seconds so that a node full of clients is not a reconnect storm.
//
// - This node's subscription comes back (`onSubscriberBack`): every socket of this node.
// - A publish of this node's adapter fails (`onPublishDropped`, only when the module made the
//   adapter on its own connections): its rooms are noted, and once the publishing connection is
//   ready, one hint on `<prefix>resync` names them; every other node closes its sockets in those
//   rooms. A node whose own subscription was away too closes all of its sockets anyway.
import { decode } from 'notepack.io';
import type { RedisConnections } from './redis.ts';
import type { ChatNamespace } from './socketServer.ts';
import type { Logger } from '../logger.ts';

/**
 * The first close comes this long after the cause: what this node's publishing connection queued
 * while Redis was away has reached the other nodes before its clients reconnect there (a push
 * delivered here already would reach them a second time on the other node).
 */
export const RESYNC_MIN_DELAY_MS = 250;
/** The closes are spread over this much time per socket (200 a second: each is a handshake, a presence change and a sync), … */
export const RESYNC_MS_PER_SOCKET = 5;
/** … and over at most this long. */
export const RESYNC_MAX_SPREAD_MS = 20_000;
/** Failed publishes are gathered this long before one hint names their rooms. */
const HINT_DELAY_MS = 1000;
/** A hint with more rooms than this names none: every socket of the other nodes. */
const HINT_MAX_ROOMS = 10_000;

export interface Resync {
  /** Closes (spread over time) this node's sockets in these rooms, or all of them; answers how many it newly scheduled. */
  sockets(rooms: Iterable<string> | 'all'): number;
  close(): void;
}

export function createResync(nsp: ChatNamespace): Resync {
  const pending = new Map<string, NodeJS.Timeout>();
  return {
    sockets(rooms) {
      const ids = new Set<string>();
      if (rooms === 'all') for (const id of nsp.sockets.keys()) ids.add(id);
      else for (const room of rooms) for (const id of nsp.adapter.rooms.get(room) ?? []) ids.add(id);
      const fresh = [...ids].filter((id) => !pending.has(id) && nsp.sockets.has(id));
      const spread = Math.min(RESYNC_MAX_SPREAD_MS, fresh.length * RESYNC_MS_PER_SOCKET);
      for (const id of fresh) {
        const timer = setTimeout(() => {
          pending.delete(id);
          nsp.sockets.get(id)?.conn.close();
        }, RESYNC_MIN_DELAY_MS + Math.random() * spread);
        timer.unref();
        pending.set(id, timer);
      }
      return fresh.length;
    },
    close() {
      for (const timer of pending.values()) clearTimeout(timer);
      pending.clear();
    },
  };
}

/**
 * The rooms a failed publish of the Redis adapter was for: `null` when it was no broadcast of this
 * namespace (`channel` is not under `adapterChannel`, `<key>#<namespace>#`), `'all'` when it went
 * to the whole namespace or cannot be read. The adapter (@socket.io/redis-adapter) publishes a
 * broadcast to one room on `<adapterChannel><room>#`, any other on `adapterChannel` itself, as
 * MessagePack `[uid, packet, { rooms, except, flags }]`.
 */
export function roomsOfBroadcast(channel: string, message: string | Buffer, adapterChannel: string): string[] | 'all' | null {
  if (!channel.startsWith(adapterChannel)) return null;
  const room = channel.slice(adapterChannel.length, -1);
  if (room !== '') return [room];
  try {
    const rooms = (decode(message) as [unknown, unknown, { rooms?: unknown }])[2].rooms;
    if (Array.isArray(rooms) && rooms.length > 0 && rooms.every((r) => typeof r === 'string')) return rooms;
  } catch {
    // not the adapter's format: make sure instead
  }
  return 'all';
}

interface Hint {
  node: string;
  namespace: string;
  /** null: every socket. */
  rooms: string[] | null;
}

export interface RecoverOptions {
  nsp: ChatNamespace;
  redis: RedisConnections;
  /** The module's Redis prefix: the hint channel is `<prefix>resync`. */
  prefix: string;
  nodeId: string;
  /** `<key>#<namespace>#` of a Redis adapter made on `redis.pub` (the module's own server); null for a host's adapter. */
  adapterChannel: string | null;
  logger: Logger;
  onError: (err: unknown) => void;
}

/** Makes the clients that missed pushes reconnect and sync (see the top of this file). */
export function recoverMissedPushes(opts: RecoverOptions): { close(): void } {
  const { nsp, redis, nodeId, logger } = opts;
  const channel = `${opts.prefix}resync`;
  const resync = createResync(nsp);
  let closed = false;

  redis.onSubscriberBack(() => {
    if (closed) return;
    const n = resync.sockets('all');
    if (n > 0) logger.info(`redis: subscription back; ${n} client(s) of this node reconnect to sync what other nodes pushed meanwhile`);
  });

  void redis.sub
    .subscribe(channel, (message) => {
      if (closed) return;
      let hint: Hint;
      try {
        hint = JSON.parse(message) as Hint;
      } catch {
        return;
      }
      if (hint.node === nodeId || hint.namespace !== nsp.name) return;
      const n = resync.sockets(hint.rooms ?? 'all');
      if (n > 0) logger.info(`redis: node ${hint.node} failed to publish pushes; ${n} client(s) of this node reconnect to sync them`);
    })
    .catch(opts.onError);

  // This node's failed publishes: their rooms, until a hint about them went out.
  let lost: Set<string> | 'all' | null = null;
  let timer: NodeJS.Timeout | undefined;
  const note = (rooms: string[] | 'all') => {
    if (rooms === 'all' || lost === 'all') lost = 'all';
    else {
      lost ??= new Set();
      for (const r of rooms) lost.add(r);
      if (lost.size > HINT_MAX_ROOMS) lost = 'all';
    }
    timer ??= setTimeout(flush, HINT_DELAY_MS).unref();
  };
  const flush = () => {
    timer = undefined;
    if (closed || lost === null) return;
    // Queued while the connection is away, it could be dropped with the queue: wait for it.
    if (!redis.pub.isReady) {
      timer = setTimeout(flush, HINT_DELAY_MS).unref();
      return;
    }
    const hint: Hint = { node: nodeId, namespace: nsp.name, rooms: lost === 'all' ? null : [...lost] };
    lost = null;
    // A hint that fails too comes back through onPublishDropped, and is noted again.
    void redis.pub.publish(channel, JSON.stringify(hint));
  };
  redis.onPublishDropped((ch, message) => {
    if (closed) return;
    if (ch === channel) {
      try {
        const hint = JSON.parse(String(message)) as Hint;
        note(hint.rooms ?? 'all');
      } catch {
        // not ours
      }
      return;
    }
    if (!opts.adapterChannel) return;
    const rooms = roomsOfBroadcast(ch, message, opts.adapterChannel);
    if (rooms) note(rooms);
  });

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      resync.close();
    },
  };
}
