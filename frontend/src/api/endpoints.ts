// Typed calls for the demo's own HTTP endpoints (DESIGN.md, "HTTP API"): login, people, follows,
// works, tasks, achievements. The chat's endpoints belong to the chat module.
import type { AchievementEntry, PublicUser, TaskEntry, WorkEntry } from '@shared/events';
import { del, get, post } from './http';

export interface AuthAnswer {
  token: string;
  user: PublicUser;
}
export type PersonEntry = PublicUser & { following: boolean; followsMe: boolean };

const id = encodeURIComponent;

export const authApi = {
  login: (username: string, password: string) => post<AuthAnswer>('/api/auth/login', { username, password }),
  register: (body: { username: string; password: string; displayName?: string }) =>
    post<AuthAnswer>('/api/auth/register', body),
  me: () => get<{ user: PublicUser }>('/api/me'),
};

export const hostApi = {
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
