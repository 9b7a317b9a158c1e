import type { PublicUser } from '../../realtime/events.ts';

/** Public fields only: never the password hash (DESIGN.md, HTTP API). */
export const publicUserSelect = { id: true, username: true, displayName: true, avatarUrl: true } as const;

export function toPublicUser(u: PublicUser): PublicUser {
  return { id: u.id, username: u.username, displayName: u.displayName, avatarUrl: u.avatarUrl };
}
