import { validation, type ChatUser, type PublicUser } from 'friend-chat/server';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { isUuid, publicUserSelect } from './public.ts';

export interface UserListEntry extends PublicUser {
  following: boolean;
  followsMe: boolean;
}

const encode = (username: string) => Buffer.from(username).toString('base64url');
function decode(cursor: string): string {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  // Node's decoder skips what it cannot read, so garbage decodes to *something*: only a cursor
  // this service could have made (it encodes back to itself) is accepted.
  if (!s || s.length > 64 || encode(s) !== cursor) throw validation('Invalid cursor');
  return s;
}

/** `contains` becomes LIKE '%…%': the user's % and _ are plain characters, not wildcards. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

export function createUserService(prisma: PrismaClient) {
  return {
    /** People search, by username order, for the caller (who is left out of the list). */
    async search(me: string, q: string | undefined, limit: number, cursor: string | undefined) {
      const text = q?.trim() ? likeLiteral(q.trim()) : undefined;
      const rows = await prisma.user.findMany({
        where: {
          id: { not: me },
          ...(text
            ? { OR: [{ username: { contains: text, mode: 'insensitive' } }, { displayName: { contains: text, mode: 'insensitive' } }] }
            : {}),
          ...(cursor ? { username: { gt: decode(cursor) } } : {}),
        },
        orderBy: { username: 'asc' },
        take: limit + 1,
        select: {
          ...publicUserSelect,
          followers: { where: { followerId: me }, select: { followerId: true } },
          following: { where: { followeeId: me }, select: { followeeId: true } },
        },
      });
      const page = rows.slice(0, limit);
      const users: UserListEntry[] = page.map((u) => ({
        id: u.id,
        username: u.username,
        displayName: u.displayName,
        avatarUrl: u.avatarUrl,
        following: u.followers.length > 0,
        followsMe: u.following.length > 0,
      }));
      const last = page.at(-1);
      return { users, nextCursor: rows.length > limit && last ? encode(last.username) : null };
    },

    /** The chat module's UserDirectory port: ids that are not the demo's (not UUIDs) are nobody. */
    async byIds(ids: string[]): Promise<ChatUser[]> {
      const valid = ids.filter(isUuid);
      if (valid.length === 0) return [];
      return prisma.user.findMany({ where: { id: { in: valid } }, select: publicUserSelect });
    },
  };
}
export type UserService = ReturnType<typeof createUserService>;
