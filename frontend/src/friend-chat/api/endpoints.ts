// Typed calls for the HTTP endpoints the chat uses (DESIGN.md, "HTTP API"), relative to apiBase.
import type { ChatWireMessage, ConversationEntry, FriendEntry, GroupConversationEntry, NotificationWireMessage, UnreadCounts } from '../wire';
import { get, post } from './http';

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
