// How services push to users: one Socket.IO room per user id, so an emit reaches every tab
// on every node (through the Redis adapter when it is on). Services get the bus before the
// Socket.IO server exists; `attach` binds it once the server is up. A push never throws:
// the caller's action already happened and is stored, and clients catch up through sync.
import type { Namespace, Server } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.ts';
import type { PushMarks } from './pushMarks.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type ChatNamespace = Namespace<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];
/** What one node tells the others, acknowledged. */
type NodeEvent = 'friends:changed' | 'users:deleted';

export interface Bus {
  /**
   * Emits to every socket of the given users (or in the given rooms, e.g. a group's), except the
   * socket `exceptSocketId` (or, given a user id, all that user's sockets).
   */
  emit<E extends EventName>(userIds: string | string[], event: E, payload: Payload<E>, exceptSocketId?: string): void;
  /**
   * Binds the module's namespace; `multiNode` when an adapter links it to other nodes.
   * `published`: when that adapter is the Redis adapter on the module's own connections, their
   * `published()` (redis.ts), which `published()` below then waits for.
   */
  attach(nsp: ChatNamespace, opts?: { multiNode: boolean; published?: () => Promise<void>; marks?: PushMarks }): void;
  /**
   * Resolves once Redis answered every publish the emits so far made (or failed them, or after
   * PUBLISH_WAIT_MS), so that what was emitted has reached the other nodes' subscriptions; at once
   * with one node, a host's adapter, or Redis away. A send awaits it before its answer: a node
   * that dies after the answer has not taken the push to the other nodes with it. Never rejects.
   */
  published(): Promise<void>;
  /**
   * Notes that the push of this new message went out through Redis (pushMarks.ts), right after
   * its emit. Nothing with one node, a host's adapter, or Redis away.
   */
  markPushed(messageId: string): void;
  /**
   * Whether the push of this stored message went out, for a resend of it: with the module's own
   * Redis adapter, whether it was marked (false when Redis does not answer); otherwise true (one
   * node: a node that died took every socket with it, and its clients sync when they reconnect).
   */
  wasPushed(messageId: string): Promise<boolean>;
  /**
   * Tells every other node (through the adapter) that these users' friendships changed, and
   * resolves once they all acknowledged it (or after `FRIENDS_CHANGED_TIMEOUT_MS`): a follow or
   * unfollow answers only when no node still holds the old friendship. Never rejects.
   */
  friendsChanged(userIds: string[]): Promise<void>;
  /** Runs on this node when another node reports a friendship change. */
  onFriendsChanged(handler: (userIds: string[]) => void): void;
  /**
   * Tells every other node that the host deleted these users, and resolves once they all
   * acknowledged it (or after `FRIENDS_CHANGED_TIMEOUT_MS`). Never rejects.
   */
  usersDeleted(userIds: string[]): Promise<void>;
  /** Runs on this node when another node reports deleted users. */
  onUsersDeleted(handler: (userIds: string[]) => void): void;
}

/** How long a follow or unfollow waits for the other nodes to drop their cached friendship. */
export const FRIENDS_CHANGED_TIMEOUT_MS = 1000;

export function createBus(onError: (err: unknown) => void = () => {}): Bus {
  let io: ChatNamespace | null = null;
  let multiNode = false;
  let published = (): Promise<void> => Promise.resolve();
  let marks: PushMarks | null = null;
  const handlers: Record<NodeEvent, ((userIds: string[]) => void)[]> = { 'friends:changed': [], 'users:deleted': [] };

  /** Tells the other nodes and waits for their acks, at most FRIENDS_CHANGED_TIMEOUT_MS. */
  async function tellNodes(event: NodeEvent, userIds: string[]): Promise<void> {
    // One node (the in-memory adapter) has no one to tell, and would only warn.
    if (!io || !multiNode) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      // The adapter waits up to its own request timeout; a slow node or Redis away must
      // not hold up the request that changed the friendship any longer than this.
      await Promise.race([
        io.serverSideEmitWithAck(event, userIds),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, FRIENDS_CHANGED_TIMEOUT_MS))),
      ]);
    } catch (err) {
      onError(err);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    attach(server, opts) {
      io = server;
      multiNode = opts?.multiNode ?? false;
      if (opts?.published) published = opts.published;
      marks = opts?.marks ?? null;
      for (const event of Object.keys(handlers) as NodeEvent[]) {
        server.on(event, (userIds: string[], ack: () => void) => {
          try {
            for (const h of handlers[event]) h(userIds);
          } finally {
            // A node of an older version emits without an ack.
            if (typeof ack === 'function') ack();
          }
        });
      }
    },
    published: () => published(),
    markPushed: (messageId) => marks?.mark(messageId),
    wasPushed: async (messageId) => (marks ? marks.seen(messageId) : true),
    friendsChanged: (userIds) => tellNodes('friends:changed', userIds),
    onFriendsChanged(handler) {
      handlers['friends:changed'].push(handler);
    },
    usersDeleted: (userIds) => tellNodes('users:deleted', userIds),
    onUsersDeleted(handler) {
      handlers['users:deleted'].push(handler);
    },
    emit(userIds, event, payload, exceptSocketId) {
      if (!io) return;
      const rooms = Array.isArray(userIds) ? userIds : [userIds];
      if (rooms.length === 0) return;
      try {
        let op = io.to(rooms);
        if (exceptSocketId) op = op.except(exceptSocketId);
        // Socket.IO's emit typing wants a tuple of the event's parameters.
        (op.emit as (ev: string, ...args: unknown[]) => boolean)(event, payload);
      } catch (err) {
        onError(err);
      }
    },
  };
}
