// Tasks: one catalogue for every user; each completed once per user (again → 409).
import { conflict, notFound, type FriendChat, type TaskEntry } from 'friend-chat/server';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { AchievementService } from '../achievements/service.ts';
import { build } from '../notifications.ts';

export const TASK_CATALOGUE = [
  { code: 'COMPLETE_PROFILE', title: 'Complete your profile', description: 'Add a display name and an avatar', reward: 10 },
  { code: 'PUBLISH_WORK', title: 'Publish a work', description: 'Share something you made', reward: 20 },
  { code: 'MAKE_FRIEND', title: 'Make a friend', description: 'Follow someone who follows you back', reward: 15 },
  { code: 'SAY_HELLO', title: 'Say hello', description: 'Send a chat message to a friend', reward: 5 },
  { code: 'DAILY_CHECK_IN', title: 'Daily check-in', description: 'Visit the site today', reward: 1 },
] as const;

export function createTaskService(prisma: PrismaClient, chat: FriendChat, achievements: AchievementService) {
  return {
    /** Seeds the catalogue; ON CONFLICT DO NOTHING, so nodes starting together cannot collide. */
    async ensureCatalogue(): Promise<void> {
      await prisma.task.createMany({ data: [...TASK_CATALOGUE], skipDuplicates: true });
    },

    async list(me: string): Promise<TaskEntry[]> {
      const tasks = await prisma.task.findMany({
        orderBy: { code: 'asc' },
        include: { completions: { where: { userId: me } } },
      });
      return tasks.map((t) => ({
        id: t.id,
        code: t.code,
        title: t.title,
        description: t.description,
        reward: t.reward,
        completed: t.completions.length > 0,
        completedAt: t.completions[0]?.completedAt.toISOString() ?? null,
      }));
    },

    async complete(me: string, taskId: string): Promise<TaskEntry> {
      const task = await prisma.task.findUnique({ where: { id: taskId } });
      if (!task) throw notFound('Task');
      const { completedAt } = await chat.notifications.transaction(
        prisma,
        async (tx, notify) => {
          const { count } = await tx.userTask.createMany({ data: [{ userId: me, taskId }], skipDuplicates: true });
          if (count === 0) throw conflict('Task already completed');
          const n = build.taskCompleted(me, task, task.reward);
          await notify(n.userId, n.draft);
          const unlockedFirst = await achievements.unlock(tx, notify, me, 'FIRST_TASK');
          const row = await tx.userTask.findUniqueOrThrow({ where: { userId_taskId: { userId: me, taskId } } });
          return { completedAt: row.completedAt, unlockedFirst };
        },
        { afterCommit: ({ unlockedFirst }) => void (unlockedFirst && achievements.remember(me, 'FIRST_TASK')) },
      );
      const { id, code, title, description, reward } = task;
      return { id, code, title, description, reward, completed: true, completedAt: completedAt.toISOString() };
    },
  };
}
export type TaskService = ReturnType<typeof createTaskService>;
