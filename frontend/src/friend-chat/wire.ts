// The wire contract the server shares with this module (its HTTP answers and socket events), in
// one place so that every other file of the module imports it from here.
import type {
  Ack,
  ChatWireMessage,
  ClientToServerEvents as BaseClientEvents,
  PublicUser,
  ServerToClientEvents as BaseServerEvents,
  UnreadCounts as BaseUnreadCounts,
  WireMessage,
} from '../../../backend/src/realtime/events';

export { SYSTEM_MESSAGE_TYPES } from '../../../backend/src/realtime/events';
export type {
  ChatWireMessage,
  ConversationEntry,
  CustomWireMessage,
  ErrorBody,
  FriendEntry,
  NotificationWireMessage,
  PublicUser,
  SessionClosedReason,
  SystemMessageType,
  SystemMetadata,
  SystemWireMessage,
  WireMessage,
} from '../../../backend/src/realtime/events';

// ---- Groups (DESIGN.md, "Groups"). PROVISIONAL: declared from the contract until the server's
// own types land in backend/src/realtime/events.ts; then these become re-exports. ----

export type GroupRole = 'owner' | 'admin' | 'member';
export type GroupVisibility = 'private' | 'public';

export interface GroupInfo {
  id: string;
  name: string;
  avatarUrl: string | null;
  visibility: GroupVisibility;
  ownerId: string;
  memberCount: number;
  createdAt: string;
}

export interface GroupMemberEntry {
  user: PublicUser;
  role: GroupRole;
  joinedAt: string;
}

export type GroupEventKind = 'created' | 'joined' | 'added' | 'left' | 'removed' | 'renamed';

export interface GroupEventMetadata {
  event: GroupEventKind;
  actor: PublicUser;
  users?: PublicUser[];
  name?: string;
}

/** A chat message in a group: `groupId` set, `toUserId` null. */
export interface GroupChatWireMessage extends Omit<ChatWireMessage, 'toUserId'> {
  toUserId: null;
  groupId: string;
}

/** A join, leave, removal or rename, stored in the group's timeline. */
export interface GroupEventWireMessage extends Omit<ChatWireMessage, 'toUserId' | 'messageType' | 'metadata' | 'fromUserId'> {
  messageType: 'GROUP_EVENT';
  fromUserId: null;
  toUserId: null;
  groupId: string;
  metadata: GroupEventMetadata;
}

export type GroupWireMessage = GroupChatWireMessage | GroupEventWireMessage;

export interface GroupListEntry {
  group: GroupInfo;
  role: GroupRole;
  unread: number;
  lastMessage: GroupWireMessage | null;
  muted: boolean;
}

export interface GroupConversationEntry {
  group: GroupInfo;
  lastMessage: GroupWireMessage;
  unread: number;
  updatedAt: string;
  muted: boolean;
}

export type AnyWireMessage = WireMessage | GroupWireMessage;

export type UnreadCounts = BaseUnreadCounts & { byGroup: Record<string, number>; muted: { users: string[]; groups: string[] } };

export type ClientToServerEvents = Omit<BaseClientEvents, 'chat:send' | 'chat:read' | 'chat:typing' | 'chat:sync'> & {
  'chat:sync': (payload: { after?: string; limit?: number }, ack: Ack<{ messages: AnyWireMessage[]; nextCursor: string; hasMore: boolean }>) => void;
  'chat:send': (
    payload: ({ to: string } | { groupId: string }) & { content: string; clientId: string },
    ack: Ack<{ message: AnyWireMessage }>,
  ) => void;
  'chat:read': (payload: { peerId: string } | { groupId: string }, ack: Ack<{ updated?: number; readAt?: string }>) => void;
  'chat:typing': (payload: ({ to: string } | { groupId: string }) & { typing: boolean }, ack?: Ack<object>) => void;
};

export type ServerToClientEvents = Omit<BaseServerEvents, 'chat:message' | 'chat:deleted' | 'chat:typing' | 'unread:update'> & {
  'chat:message': (payload: { message: AnyWireMessage }) => void;
  'chat:deleted': (payload: { messageId: string; peerId?: string; groupId?: string }) => void;
  'chat:typing': (payload: { from: string; typing: boolean; groupId?: string }) => void;
  'unread:update': (payload: UnreadCounts) => void;
  'group:update': (payload: { group: GroupInfo }) => void;
  'group:member': (payload: {
    groupId: string;
    event: 'joined' | 'added' | 'left' | 'removed' | 'role';
    userIds: string[];
    by: string;
    role?: GroupRole;
    group: GroupInfo;
  }) => void;
  'group:read': (payload: { groupId: string; userId: string; readAt: string }) => void;
};
