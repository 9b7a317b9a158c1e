// What counts as unread, in one place: messages to me, not read, not deleted. Chat messages
// count per sender (`byPeer`, summed into `total`); system messages count apart (`system`).
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { Bus } from '../realtime/bus.ts';
import type { UnreadCounts } from '../realtime/events.ts';

export function createUnreadService(prisma: PrismaClient, bus: Bus, onError: (err: unknown) => void = () => {}) {
  async function counts(userId: string): Promise<UnreadCounts> {
    const groups = await prisma.message.groupBy({
      by: ['fromUserId'],
      where: { toUserId: userId, isRead: false, deletedAt: null },
      _count: { _all: true },
    });
    const byPeer: Record<string, number> = {};
    let total = 0;
    let system = 0;
    for (const g of groups) {
      if (g.fromUserId === null) system += g._count._all;
      else {
        byPeer[g.fromUserId] = g._count._all;
        total += g._count._all;
      }
    }
    return { total, byPeer, system };
  }

  /** Recounts and pushes `unread:update` to each user's tabs. Never throws. */
  async function push(userIds: string | string[]): Promise<void> {
    const ids = [...new Set(Array.isArray(userIds) ? userIds : [userIds])];
    await Promise.all(
      ids.map(async (id) => {
        try {
          bus.emit(id, 'unread:update', await counts(id));
        } catch (err) {
          onError(err);
        }
      }),
    );
  }

  return { counts, push };
}
export type UnreadService = ReturnType<typeof createUnreadService>;
