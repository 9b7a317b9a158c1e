// Socket handlers of the chat module. They never touch storage: every rule lives in the
// services, which the HTTP routes call too.
import type { Socket } from 'socket.io';
import type { ClientToServerEvents, InterServerEvents, ServerToClientEvents, SocketData } from '../realtime/events.ts';
import { handler } from '../realtime/handler.ts';
import type { PresenceService } from '../realtime/presenceService.ts';
import type { Bus } from '../realtime/bus.ts';
import type { FriendGraph } from '../ports.ts';
import type { EventBudget } from '../realtime/eventBudget.ts';
import { AppError } from '../http/errors.ts';
import type { MessageService } from './service.ts';
import type { GroupService } from '../groups/service.ts';
import type { Lifecycle } from './lifecycle.ts';
import { DeliveredEvent, EditEvent, ReactEvent } from './lifecycleRoutes.ts';
import { PresenceListEvent, ReadEvent, SendEvent, SyncEvent, TypingEvent } from './schemas.ts';

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

export interface ChatHandlerDeps {
  messages: MessageService;
  lifecycle: Pick<Lifecycle, 'delivered' | 'edit' | 'react'>;
  groups: GroupService;
  presence: PresenceService;
  friends: FriendGraph;
  bus: Bus;
  /**
   * Per-user budget, across the user's sockets and nodes, for every event but `chat:send`
   * (which has its own per-user message rate): reads and typing relays.
   */
  budget: EventBudget;
  onError?: (err: unknown) => void;
}

export function registerChatHandlers(socket: ChatSocket, deps: ChatHandlerDeps): void {
  const me = socket.data.userId;
  const { messages, lifecycle, groups, presence, friends, bus, budget, onError } = deps;
  /** Runs `fn` only while the user's budget lasts; beyond it the ack answers RATE_LIMITED. */
  const budgeted =
    <I, R>(fn: (input: I) => Promise<R>) =>
    async (input: I): Promise<R> => {
      if (!(await budget.take(me))) throw new AppError('RATE_LIMITED', 'Too many requests, slow down');
      return fn(input);
    };
  // Socket.IO's typed `on` expects the exact listener signature; our handlers validate
  // untyped input themselves, so they are registered through this untyped view.
  const on = socket.on.bind(socket) as (event: string, listener: (...args: unknown[]) => void) => void;

  on(
    'chat:send',
    handler(
      SendEvent,
      async (input) => {
        const { message } = await messages.send({ ...input, from: me, originSocketId: socket.id });
        return { message };
      },
      onError,
    ),
  );

  on(
    'chat:read',
    handler(
      ReadEvent,
      budgeted((input) => ('groupId' in input ? groups.markRead(me, input.groupId, socket.id) : messages.markRead(me, input.peerId, socket.id))),
      onError,
    ),
  );

  on('chat:sync', handler(SyncEvent, budgeted(({ after, limit }) => messages.sync(me, after, limit)), onError));

  on(
    'chat:typing',
    handler(
      TypingEvent,
      budgeted(async (input) => {
        // In a group: to the other members, members only. Direct: relayed to friends only; to
        // anyone else it is silently dropped.
        if ('groupId' in input) await groups.typing(me, input.groupId, input.typing);
        else if (await friends.areFriends(me, input.to)) bus.emit(input.to, 'chat:typing', { from: me, typing: input.typing });
        return {};
      }),
      onError,
    ),
  );

  // Delivered receipts, edits and reactions (DESIGN.md, "Message lifecycle"), on the same budget.
  on(
    'chat:delivered',
    handler(
      DeliveredEvent,
      budgeted(({ messageIds }) => lifecycle.delivered(me, messageIds, socket.id)),
      onError,
    ),
  );
  on('chat:edit', handler(EditEvent, budgeted(async ({ messageId, content }) => ({ message: await lifecycle.edit(me, messageId, content) })), onError));
  on('chat:react', handler(ReactEvent, budgeted(({ messageId, emoji, on: add }) => lifecycle.react(me, messageId, emoji, add)), onError));

  on('presence:list', handler(PresenceListEvent, budgeted(async () => ({ online: await presence.onlineFriends(me) })), onError));
}
