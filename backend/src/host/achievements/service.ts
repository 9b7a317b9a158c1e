// Achievements are unlocked by server rules, each exactly once per user. The unique
// (userId, achievementId) key with ON CONFLICT DO NOTHING makes a concurrent second unlock a
// no-op, and only the request that inserted the row stores the notification (through the chat
// module, in the same transaction: `chat.notifications.transaction`).
import type { NotificationDraft, WireMessage } from 'friend-chat/server';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { build } from '../notifications.ts';

export type Tx = Prisma.TransactionClient;
/** Stores a notification in the running transaction (from `chat.notifications.transaction`). */
export type Notify = (userId: string, draft: NotificationDraft) => Promise<WireMessage>;

export const ACHIEVEMENTS = {
  FIRST_FRIEND: { title: 'First friend', description: 'Became friends with someone' },
  FIRST_MESSAGE: { title: 'Ice breaker', description: 'Sent your first chat message' },
  FIRST_PURCHASE: { title: 'Collector', description: 'Bought your first work' },
  FIRST_SALE: { title: 'First sale', description: 'Sold your first work' },
  FIRST_TASK: { title: 'Go-getter', description: 'Completed your first task' },
} as const;
export type AchievementCode = keyof typeof ACHIEVEMENTS;

export function createAchievementService(prisma: PrismaClient) {
  const ids = new Map<string, string>();
  // Users known to hold an achievement; lets hot paths (every chat send) skip the database.
  const held = new Set<string>();

  async function achievementId(tx: Tx, code: AchievementCode): Promise<string> {
    const cached = ids.get(code);
    if (cached) return cached;
    const def = ACHIEVEMENTS[code];
    const row = await tx.achievement.upsert({
      where: { code },
      create: { code, title: def.title, description: def.description },
      update: {},
    });
    ids.set(code, row.id);
    return row.id;
  }

  /**
   * Unlocks for several users at once (two statements, whatever their number), inside the
   * caller's transaction, and stores a notification for each who did not hold it yet. Returns them.
   */
  async function unlockMany(tx: Tx, notify: Notify, userIds: string[], code: AchievementCode): Promise<string[]> {
    // Sorted, so concurrent transactions take the row locks in the same order (no deadlock).
    const todo = [...new Set(userIds)].filter((id) => !held.has(`${id}:${code}`)).sort();
    if (todo.length === 0) return [];
    const id = await achievementId(tx, code);
    const inserted = await tx.userAchievement.createManyAndReturn({
      data: todo.map((userId) => ({ userId, achievementId: id })),
      skipDuplicates: true,
      select: { userId: true },
    });
    const title = ACHIEVEMENTS[code].title;
    for (const r of inserted) {
      const n = build.achievementUnlocked(r.userId, { code, title });
      await notify(n.userId, n.draft);
    }
    return inserted.map((r) => r.userId);
  }

  return {
    /** Seeds the catalogue; ON CONFLICT DO NOTHING, so nodes starting together cannot collide. */
    async ensureCatalogue(): Promise<void> {
      await prisma.achievement.createMany({
        data: Object.entries(ACHIEVEMENTS).map(([code, def]) => ({ code, title: def.title, description: def.description })),
        skipDuplicates: true,
      });
      for (const row of await prisma.achievement.findMany({ select: { id: true, code: true } })) ids.set(row.code, row.id);
    },

    /** True when the user may not hold it yet (cheap pre-check for hot paths). */
    mayUnlock(userId: string, code: AchievementCode): boolean {
      return !held.has(`${userId}:${code}`);
    },

    /** Unlocks inside the caller's transaction; true when this call unlocked it. */
    async unlock(tx: Tx, notify: Notify, userId: string, code: AchievementCode): Promise<boolean> {
      return (await unlockMany(tx, notify, [userId], code)).length > 0;
    },

    unlockMany,

    /** Call after the unlocking transaction committed, so the cache never runs ahead of the database. */
    remember(userId: string, code: AchievementCode): void {
      held.add(`${userId}:${code}`);
    },

    async list(userId: string) {
      const rows = await prisma.userAchievement.findMany({
        where: { userId },
        include: { achievement: true },
        orderBy: { unlockedAt: 'asc' },
      });
      return rows.map((r) => ({
        code: r.achievement.code,
        title: r.achievement.title,
        description: r.achievement.description,
        unlockedAt: r.unlockedAt.toISOString(),
      }));
    },
  };
}
export type AchievementService = ReturnType<typeof createAchievementService>;
