import type { ChatUser } from 'friend-chat/server';

/** Public fields only: never the password hash (DESIGN.md, HTTP API). */
export const publicUserSelect = { id: true, username: true, displayName: true, avatarUrl: true } as const;

export function toPublicUser(u: ChatUser): ChatUser {
  return { id: u.id, username: u.username, displayName: u.displayName, avatarUrl: u.avatarUrl };
}

/** The demo's user ids are UUIDs; the chat module passes any host id (a string), which may not be one. */
export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
