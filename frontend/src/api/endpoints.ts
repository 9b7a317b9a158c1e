// Typed calls for every HTTP endpoint the front end uses (DESIGN.md, "HTTP API").
import type {
  AchievementEntry,
  ConversationEntry,
  FriendEntry,
  PublicUser,
  TaskEntry,
  ChatWireMessage,
  NotificationWireMessage,
  UnreadCounts,
  WorkEntry,
} from '@shared/events';
import { del, get, post } from './http';

export interface AuthAnswer {
  token: string;
  user: PublicUser;
}
export interface Page<M> {
  messages: M[];
  nextCursor: string | null;
}
export type PersonEntry = PublicUser & { following: boolean; followsMe: boolean };

const id = encodeURIComponent;

export const authApi = {
  login: (username: string, password: string) => post<AuthAnswer>('/api/auth/login', { username, password }),
  register: (body: { username: string; password: string; displayName?: string }) =>
    post<AuthAnswer>('/api/auth/register', body),
  me: () => get<{ user: PublicUser }>('/api/me'),
};

export const chatApi = {
  history: (peerId: string, before?: string | null, limit = 50) =>
    get<Page<ChatWireMessage>>(`/api/messages/${id(peerId)}`, { before, limit }),
  conversations: () => get<{ conversations: ConversationEntry[] }>('/api/messages/conversations/list'),
  unread: () => get<UnreadCounts>('/api/messages/unread/count'),
};

export const notificationsApi = {
  list: (before?: string | null, unreadOnly = false, limit = 20) =>
    get<Page<NotificationWireMessage>>('/api/messages/system/list', { before, limit, unreadOnly: unreadOnly || undefined }),
  markRead: (ids: string[]) => post<{ updated: number }>('/api/messages/system/mark-read', { ids }),
  markAll: () => post<{ updated: number }>('/api/messages/system/mark-read', { all: true }),
};

export const hostApi = {
  friends: () => get<{ friends: FriendEntry[] }>('/api/friends'),
  users: (q: string, cursor?: string | null) =>
    get<{ users: PersonEntry[]; nextCursor: string | null }>('/api/users', { q, cursor, limit: 20 }),
  follow: (userId: string) => post<{ following: boolean; friends: boolean }>(`/api/follows/${id(userId)}`),
  unfollow: (userId: string) => del<{ following: boolean; friends: boolean }>(`/api/follows/${id(userId)}`),
  works: () => get<{ works: WorkEntry[] }>('/api/works'),
  createWork: (title: string, price: number) => post<{ work: WorkEntry }>('/api/works', { title, price }),
  purchase: (workId: string) => post<{ purchase: unknown }>(`/api/works/${id(workId)}/purchase`),
  tasks: () => get<{ tasks: TaskEntry[] }>('/api/tasks'),
  completeTask: (taskId: string) => post<unknown>(`/api/tasks/${id(taskId)}/complete`),
  achievements: () => get<{ achievements: AchievementEntry[] }>('/api/achievements'),
};
