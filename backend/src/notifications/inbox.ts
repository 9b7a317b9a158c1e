// The notification center's reads and writes: system messages sent to the user.
import type { PrismaClient } from '../generated/prisma/client.ts';
import { beyond, decodeCursor, encodeCursor } from '../chat/cursor.ts';
import type { UnreadService } from '../chat/unread.ts';
import { toWire } from '../chat/wire.ts';

export function createNotificationInbox(prisma: PrismaClient, unread: UnreadService) {
  const mine = (me: string) => ({ toUserId: me, fromUserId: null, deletedAt: null });
  return {
    /** Newest first, cursor-paged. */
    async list(me: string, opts: { before?: string; limit: number; unreadOnly: boolean }) {
      const rows = await prisma.message.findMany({
        where: {
          ...mine(me),
          ...(opts.unreadOnly ? { isRead: false } : {}),
          ...(opts.before ? { AND: [beyond(decodeCursor(opts.before), 'lt')] } : {}),
        },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: opts.limit + 1,
      });
      const page = rows.slice(0, opts.limit);
      const last = page.at(-1);
      return {
        messages: page.map(toWire),
        nextCursor: rows.length > opts.limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
      };
    },

    /** Ids that are not the caller's system messages are ignored and not counted. */
    async markRead(me: string, target: { ids: string[] } | { all: true }): Promise<{ updated: number }> {
      const { count } = await prisma.message.updateMany({
        where: { ...mine(me), isRead: false, ...('ids' in target ? { id: { in: target.ids } } : {}) },
        data: { isRead: true, readAt: new Date() },
      });
      if (count > 0) await unread.push(me);
      return { updated: count };
    },
  };
}
export type NotificationInbox = ReturnType<typeof createNotificationInbox>;
