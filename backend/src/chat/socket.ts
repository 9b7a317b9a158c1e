// Socket handlers of the chat module. They never touch storage: every rule lives in the
// services, which the HTTP routes call too.
import type { Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../realtime/events.ts';
import { handler } from '../realtime/handler.ts';
import type { PresenceService } from '../realtime/presenceService.ts';
import type { Bus } from '../realtime/bus.ts';
import type { FriendGraph } from '../ports.ts';
import type { MessageService } from './service.ts';
import { PresenceListEvent, ReadEvent, SendEvent, SyncEvent, TypingEvent } from './schemas.ts';

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface ChatHandlerDeps {
  messages: MessageService;
  presence: PresenceService;
  friends: FriendGraph;
  bus: Bus;
  onError?: (err: unknown) => void;
}

export function registerChatHandlers(socket: ChatSocket, deps: ChatHandlerDeps): void {
  const me = socket.data.userId;
  const { messages, presence, friends, bus, onError } = deps;
  // Socket.IO's typed `on` expects the exact listener signature; our handlers validate
  // untyped input themselves, so they are registered through this untyped view.
  const on = socket.on.bind(socket) as (event: string, listener: (...args: unknown[]) => void) => void;

  on(
    'chat:send',
    handler(
      SendEvent,
      async ({ to, content, clientId }) => {
        const { message } = await messages.send({ from: me, to, content, clientId, originSocketId: socket.id });
        return { message };
      },
      onError,
    ),
  );

  on('chat:read', handler(ReadEvent, ({ peerId }) => messages.markRead(me, peerId, socket.id), onError));

  on('chat:sync', handler(SyncEvent, ({ after, limit }) => messages.sync(me, after, limit), onError));

  on(
    'chat:typing',
    handler(
      TypingEvent,
      async ({ to, typing }) => {
        // Typing is relayed to friends only; to anyone else it is silently dropped.
        if (await friends.areFriends(me, to)) bus.emit(to, 'chat:typing', { from: me, typing });
        return {};
      },
      onError,
    ),
  );

  on('presence:list', handler(PresenceListEvent, async () => ({ online: await presence.onlineFriends(me) }), onError));
}
