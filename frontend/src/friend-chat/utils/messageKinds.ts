// Narrowing for the wire union: a host-defined notification type is an open string, so
// `messageType === 'SYSTEM_FOLLOW'` alone cannot tell TypeScript which member it is.
import { SYSTEM_MESSAGE_TYPES, type ChatWireMessage, type NotificationWireMessage, type SystemWireMessage } from '../wire';

const BUILT_IN_SYSTEM: ReadonlySet<string> = new Set(SYSTEM_MESSAGE_TYPES);

export const isChatMessage = (m: { messageType: string }): m is ChatWireMessage => m.messageType === 'CHAT';

export const isNotification = <M extends { messageType: string }>(m: M): m is Exclude<M, ChatWireMessage> => m.messageType !== 'CHAT';

/** One of the five built-in system types (their metadata has the contract's shape). */
export const isBuiltInSystem = (m: NotificationWireMessage): m is SystemWireMessage => BUILT_IN_SYSTEM.has(m.messageType);
