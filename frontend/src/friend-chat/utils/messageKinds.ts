// Narrowing for the wire union: a host-defined notification type is an open string, so
// `messageType === 'SYSTEM_FOLLOW'` alone cannot tell TypeScript which member it is.
import {
  SYSTEM_MESSAGE_TYPES,
  type ChatWireMessage,
  type GroupChatWireMessage,
  type GroupEventWireMessage,
  type NotificationWireMessage,
  type SystemWireMessage,
} from '../wire';

const BUILT_IN_SYSTEM: ReadonlySet<string> = new Set(SYSTEM_MESSAGE_TYPES);

/** What a conversation's timeline holds: chat messages (direct or group) and group events. */
export type ThreadWireMessage = ChatWireMessage | GroupChatWireMessage | GroupEventWireMessage;

export const isChatMessage = <M extends { messageType: string }>(m: M): m is Extract<M, { messageType: 'CHAT' }> => m.messageType === 'CHAT';

export const isGroupEvent = (m: { messageType: string }): m is GroupEventWireMessage => m.messageType === 'GROUP_EVENT';

/** A message of some conversation (not of the notification center). */
export const isThreadMessage = (m: { messageType: string }): m is ThreadWireMessage => m.messageType === 'CHAT' || m.messageType === 'GROUP_EVENT';

export const isNotification = <M extends { messageType: string }>(m: M): m is Exclude<M, ThreadWireMessage> => !isThreadMessage(m);

/** One of the five built-in system types (their metadata has the contract's shape). */
export const isBuiltInSystem = (m: NotificationWireMessage): m is SystemWireMessage => BUILT_IN_SYSTEM.has(m.messageType);
