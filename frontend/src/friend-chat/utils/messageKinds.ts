// Narrowing for the wire union: a host-defined notification type is an open string, so
// `messageType === 'SYSTEM_FOLLOW'` alone cannot tell TypeScript which member it is.
import { SYSTEM_MESSAGE_TYPES, type ChatWireMessage, type GroupWireMessage, type NotificationWireMessage, type SystemWireMessage } from '../wire';

const BUILT_IN_SYSTEM: ReadonlySet<string> = new Set(SYSTEM_MESSAGE_TYPES);

type Kind = { messageType: string; groupId?: string | null };

/** A direct chat message (group messages have a `groupId`). */
export const isChatMessage = (m: Kind): m is ChatWireMessage => m.messageType === 'CHAT' && !m.groupId;

/** A message of a group: a member's, or a GROUP_EVENT notice. */
export const isGroupMessage = <M extends Kind>(m: M): m is Extract<M, GroupWireMessage> => !!m.groupId;

/** A notification (system or host-defined): not chat, not of a group. */
export const isNotification = <M extends Kind>(m: M): m is Exclude<M, ChatWireMessage | GroupWireMessage> => m.messageType !== 'CHAT' && !m.groupId;

/** One of the five built-in system types (their metadata has the contract's shape). */
export const isBuiltInSystem = (m: NotificationWireMessage): m is SystemWireMessage => BUILT_IN_SYSTEM.has(m.messageType);
