// Typed calls for the HTTP endpoints the chat uses (DESIGN.md, "HTTP API"), relative to apiBase.
import type { ThreadWireMessage } from '../utils/messageKinds';
import type {
  ChatWireMessage,
  ConversationEntry,
  FriendEntry,
  GroupConversationEntry,
  GroupInfo,
  GroupListEntry,
  GroupMemberEntry,
  GroupRole,
  GroupVisibility,
  NotificationWireMessage,
  UnreadCounts,
} from '../wire';
import { get, http, post } from './http';

export interface Page<M> {
  messages: M[];
  nextCursor: string | null;
}

const id = encodeURIComponent;

export const chatApi = {
  history: (peerId: string, before?: string | null, limit = 50) =>
    get<Page<ChatWireMessage>>(`/messages/${id(peerId)}`, { before, limit }),
  conversations: () => get<{ conversations: (ConversationEntry | GroupConversationEntry)[] }>('/messages/conversations/list'),
  unread: () => get<UnreadCounts>('/messages/unread/count'),
};

export const notificationsApi = {
  list: (before?: string | null, unreadOnly = false, limit = 20) =>
    get<Page<NotificationWireMessage>>('/messages/system/list', { before, limit, unreadOnly: unreadOnly || undefined }),
  markRead: (ids: string[]) => post<{ updated: number }>('/messages/system/mark-read', { ids }),
  markAll: () => post<{ updated: number }>('/messages/system/mark-read', { all: true }),
};

export const friendsApi = {
  list: () => get<{ friends: FriendEntry[] }>('/friends'),
};

export const groupsApi = {
  mine: () => get<{ groups: GroupListEntry[] }>('/groups'),
  discover: (q?: string, cursor?: string | null) => get<{ groups: GroupInfo[]; nextCursor: string | null }>('/groups/discover', { q, cursor }),
  get: (groupId: string) => get<{ group: GroupInfo; members: GroupMemberEntry[] }>(`/groups/${id(groupId)}`),
  create: (body: { name: string; memberIds: string[]; visibility?: GroupVisibility }) => post<{ group: GroupInfo }>('/groups', body),
  update: (groupId: string, body: { name?: string; visibility?: GroupVisibility }) =>
    http<{ group: GroupInfo }>('PATCH', `/groups/${id(groupId)}`, { body }),
  addMembers: (groupId: string, userIds: string[]) => post<{ added: unknown }>(`/groups/${id(groupId)}/members`, { userIds }),
  join: (groupId: string) => post<{ group: GroupInfo }>(`/groups/${id(groupId)}/join`),
  /** Removing yourself is leaving. */
  removeMember: (groupId: string, userId: string) => http<void>('DELETE', `/groups/${id(groupId)}/members/${id(userId)}`),
  setRole: (groupId: string, userId: string, role: Exclude<GroupRole, 'owner'>) =>
    http<{ member: GroupMemberEntry }>('PATCH', `/groups/${id(groupId)}/members/${id(userId)}`, { body: { role } }),
  history: (groupId: string, before?: string | null, limit = 50) =>
    get<Page<ThreadWireMessage>>(`/groups/${id(groupId)}/messages`, { before, limit }),
};

export const mutesApi = {
  mute: (kind: 'user' | 'group', targetId: string) => http<unknown>('PUT', `/mutes/${kind}/${id(targetId)}`, { body: {} }),
  unmute: (kind: 'user' | 'group', targetId: string) => http<void>('DELETE', `/mutes/${kind}/${id(targetId)}`),
};
