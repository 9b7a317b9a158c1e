// Socket handlers of the chat module. They never touch storage: every rule lives in the
// services, which the HTTP routes call too.
import type { Socket } from 'socket.io';
import type { z } from 'zod';
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

/** A socket event's listener, shared by every socket: the socket is `this`. */
export type SharedListener = (this: ChatSocket, ...args: unknown[]) => Promise<void>;

/**
 * The chat events' listeners, made once per node and shared by every socket (each finds its user
 * in `this.data.userId`): a connection adds no closures of its own for them.
 */
export function chatHandlers(deps: ChatHandlerDeps): [event: string, listener: SharedListener][] {
  const { messages, lifecycle, groups, presence, friends, bus, budget, onError } = deps;
  /** Runs `fn` only while the user's budget lasts; beyond it the ack answers RATE_LIMITED. */
  const budgeted =
    <I, R>(fn: (input: I, me: string, socket: ChatSocket) => Promise<R>) =>
    async (input: I, socket: ChatSocket): Promise<R> => {
      const me = socket.data.userId;
      if (!(await budget.take(me))) throw new AppError('RATE_LIMITED', 'Too many requests, slow down');
      return fn(input, me, socket);
    };
  const on = <S extends Parameters<typeof handler>[0], R extends object>(
    event: string,
    schema: S,
    fn: (input: z.infer<S>, socket: ChatSocket) => Promise<R>,
  ): [string, SharedListener] => [event, handler<S, R, ChatSocket>(schema, fn, onError)];

  return [
    on('chat:send', SendEvent, async (input, socket) => {
      const { message } = await messages.send({ ...input, from: socket.data.userId, originSocketId: socket.id });
      return { message };
    }),
    on(
      'chat:read',
      ReadEvent,
      budgeted((input, me, socket) => ('groupId' in input ? groups.markRead(me, input.groupId, socket.id) : messages.markRead(me, input.peerId, socket.id))),
    ),
    on('chat:sync', SyncEvent, budgeted(({ after, limit }, me) => messages.sync(me, after, limit))),
    on(
      'chat:typing',
      TypingEvent,
      budgeted(async (input, me) => {
        // In a group: to the other members, members only. Direct: relayed to friends only; to
        // anyone else it is silently dropped.
        if ('groupId' in input) await groups.typing(me, input.groupId, input.typing);
        else if (await friends.areFriends(me, input.to)) bus.emit(input.to, 'chat:typing', { from: me, typing: input.typing });
        return {};
      }),
    ),
    // Delivered receipts, edits and reactions (DESIGN.md, "Message lifecycle"), on the same budget.
    on('chat:delivered', DeliveredEvent, budgeted(({ messageIds }, me, socket) => lifecycle.delivered(me, messageIds, socket.id))),
    on('chat:edit', EditEvent, budgeted(async ({ messageId, content }, me) => ({ message: await lifecycle.edit(me, messageId, content) }))),
    on('chat:react', ReactEvent, budgeted(({ messageId, emoji, on: add }, me) => lifecycle.react(me, messageId, emoji, add))),
    on('presence:list', PresenceListEvent, budgeted(async (_input, me) => ({ online: await presence.onlineFriends(me) }))),
  ];
}

export function registerChatHandlers(socket: ChatSocket, handlers: [event: string, listener: SharedListener][]): void {
  // Socket.IO's typed `on` expects the exact listener signature; our handlers validate
  // untyped input themselves, so they are registered through this untyped view.
  const on = socket.on as unknown as (this: ChatSocket, event: string, listener: SharedListener) => void;
  for (const [event, listener] of handlers) on.call(socket, event, listener);
}
