// How services push to users: one Socket.IO room per user id, so an emit reaches every tab
// on every node (through the Redis adapter when it is on). Services get the bus before the
// Socket.IO server exists; `attach` binds it once the server is up. A push never throws:
// the caller's action already happened and is stored, and clients catch up through sync.
import type { Server } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from './events.ts';

export type IoServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
type EventName = keyof ServerToClientEvents;
type Payload<E extends EventName> = Parameters<ServerToClientEvents[E]>[0];

export interface Bus {
  /** Emits to every socket of the given users, except the socket `exceptSocketId`. */
  emit<E extends EventName>(userIds: string | string[], event: E, payload: Payload<E>, exceptSocketId?: string): void;
  attach(io: IoServer): void;
  /** Tells every other node (through the adapter) that these users' friendships changed. */
  friendsChanged(userIds: string[]): void;
  /** Runs on this node when another node reports a friendship change. */
  onFriendsChanged(handler: (userIds: string[]) => void): void;
}

export function createBus(onError: (err: unknown) => void = () => {}): Bus {
  let io: IoServer | null = null;
  const handlers: ((userIds: string[]) => void)[] = [];
  return {
    attach(server) {
      io = server;
      server.on('friends:changed', (userIds) => {
        for (const h of handlers) h(userIds);
      });
    },
    friendsChanged(userIds) {
      try {
        io?.serverSideEmit('friends:changed', userIds);
      } catch (err) {
        onError(err);
      }
    },
    onFriendsChanged(handler) {
      handlers.push(handler);
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
