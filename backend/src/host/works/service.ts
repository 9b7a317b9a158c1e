// Works (things users publish and sell) and purchases. Buying notifies the seller.
import { AppError, conflict, notFound, type FriendChat, type WorkEntry } from 'friend-chat/server';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { AchievementCode, AchievementService } from '../achievements/service.ts';
import { build } from '../notifications.ts';
import { publicUserSelect } from '../users/public.ts';

export function createWorkService(prisma: PrismaClient, chat: FriendChat, achievements: AchievementService) {
  return {
    async list(me: string, limit = 100): Promise<WorkEntry[]> {
      const works = await prisma.work.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit,
        include: { owner: { select: publicUserSelect }, purchases: { where: { buyerId: me }, select: { id: true } } },
      });
      return works.map((w) => ({
        id: w.id,
        title: w.title,
        price: w.price,
        owner: w.owner,
        createdAt: w.createdAt.toISOString(),
        purchasedByMe: w.purchases.length > 0,
      }));
    },

    async create(me: string, input: { title: string; price: number }) {
      const w = await prisma.work.create({
        data: { ownerId: me, title: input.title, price: input.price },
        include: { owner: { select: publicUserSelect } },
      });
      return { id: w.id, title: w.title, price: w.price, owner: w.owner, createdAt: w.createdAt.toISOString(), purchasedByMe: false };
    },

    async purchase(me: string, workId: string) {
      const work = await prisma.work.findUnique({ where: { id: workId } });
      if (!work) throw notFound('Work');
      if (work.ownerId === me) throw new AppError('VALIDATION', 'You cannot buy your own work');
      const buyer = await prisma.user.findUnique({ where: { id: me }, select: publicUserSelect });
      if (!buyer) throw new AppError('UNAUTHORIZED', 'User no longer exists');
      const unlocked: [string, AchievementCode][] = [];
      const purchase = await chat.notifications.transaction(
        prisma,
        async (tx, notify) => {
          // One purchase per buyer and work; the lock makes a double click buy it once.
          await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`purchase:${me}:${workId}`}))::text`;
          if (await tx.purchase.findFirst({ where: { workId, buyerId: me }, select: { id: true } })) {
            throw conflict('You already bought this work');
          }
          const purchase = await tx.purchase.create({ data: { workId, buyerId: me, price: work.price } });
          const n = build.workPurchased(work.ownerId, buyer, work, work.price);
          await notify(n.userId, n.draft);
          for (const [userId, code] of [
            [me, 'FIRST_PURCHASE'],
            [work.ownerId, 'FIRST_SALE'],
          ] as const) {
            if (await achievements.unlock(tx, notify, userId, code)) unlocked.push([userId, code]);
          }
          return purchase;
        },
        { afterCommit: () => unlocked.forEach(([userId, code]) => achievements.remember(userId, code)) },
      );
      return {
        id: purchase.id,
        workId: purchase.workId,
        buyerId: purchase.buyerId,
        price: purchase.price,
        createdAt: purchase.createdAt.toISOString(),
      };
    },
  };
}
export type WorkService = ReturnType<typeof createWorkService>;
