// Follows and friendship. Friends = mutual follow. The chat module asks only `areFriends`
// and `friendIds`, so it can be lifted into another app with its own social graph.
import type { Message, PrismaClient } from '../../generated/prisma/client.ts';
import { AppError, notFound } from '../../http/errors.ts';
import type { PublicUser } from '../../realtime/events.ts';
import type { NotificationService, Tx } from '../../notifications/service.ts';
import type { AchievementService } from '../achievements/service.ts';
import { publicUserSelect } from '../users/public.ts';
import { unlimited, type FollowLimiter } from './limiter.ts';

/**
 * A follower→followee pair is announced at most once in this long (SYSTEM_FOLLOW, and
 * SYSTEM_FRIEND when the follow re-makes a friendship), so follow/unfollow cycles do not flood
 * anyone. Counted from the stored notifications, deleted ones included: dismissing one does not
 * invite the next.
 */
export const FOLLOW_NOTICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface FriendGraph {
  areFriends(a: string, b: string): Promise<boolean>;
  friendIds(userId: string): Promise<string[]>;
}

export function createFollowService(
  prisma: PrismaClient,
  notifications: NotificationService,
  achievements: AchievementService,
  /**
   * Called after a follow or unfollow between the two users committed (cache invalidation);
   * the request answers once it resolves, so no node still holds the old friendship.
   */
  onChange: (userIds: string[]) => void | Promise<void> = () => {},
  limiter: FollowLimiter = unlimited,
) {
  async function areFriends(a: string, b: string): Promise<boolean> {
    if (a === b) return false;
    const n = await prisma.follow.count({
      where: { OR: [{ followerId: a, followeeId: b }, { followerId: b, followeeId: a }] },
    });
    return n === 2;
  }

  async function friendIds(userId: string): Promise<string[]> {
    const rows = await prisma.follow.findMany({
      where: { followerId: userId, followee: { following: { some: { followeeId: userId } } } },
      select: { followeeId: true },
    });
    return rows.map((r) => r.followeeId);
  }

  async function countAction(me: string): Promise<void> {
    if (!(await limiter.take(me))) throw new AppError('RATE_LIMITED', 'Too many follows and unfollows, try again in a minute');
  }

  /** Whether `to` was told within the window that `about` followed them (or became their friend). */
  async function announcedRecently(tx: Tx, to: string, type: 'SYSTEM_FOLLOW' | 'SYSTEM_FRIEND', about: string): Promise<boolean> {
    const key = type === 'SYSTEM_FOLLOW' ? 'follower' : 'friend';
    const n = await tx.message.count({
      where: {
        toUserId: to,
        messageType: type,
        createdAt: { gte: new Date(Date.now() - FOLLOW_NOTICE_WINDOW_MS) },
        metadata: { path: [key, 'id'], equals: about },
      },
    });
    return n > 0;
  }

  async function requireUser(id: string): Promise<PublicUser> {
    const user = await prisma.user.findUnique({ where: { id }, select: publicUserSelect });
    if (!user) throw notFound('User');
    return user;
  }

  return {
    areFriends,
    friendIds,

    async follow(me: string, targetId: string): Promise<{ following: true; friends: boolean }> {
      if (me === targetId) throw new AppError('VALIDATION', 'You cannot follow yourself');
      await countAction(me);
      const [target, follower] = await Promise.all([requireUser(targetId), requireUser(me)]);
      const unlocked: string[] = [];
      const { friends, stored } = await prisma.$transaction(async (tx) => {
        // Serialize follows between the same two people, so two crossing follows see each
        // other and exactly one of them announces the friendship.
        const pair = [me, targetId].sort().join(':');
        await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${pair}))::text`;
        const { count } = await tx.follow.createMany({ data: [{ followerId: me, followeeId: targetId }], skipDuplicates: true });
        const reverse = await tx.follow.findUnique({
          where: { followerId_followeeId: { followerId: targetId, followeeId: me } },
        });
        const friends = reverse !== null;
        const stored: Message[] = [];
        if (count === 0) return { friends, stored }; // already following: nothing new happened
        // Under the pair's lock, so two crossing follows cannot both find nothing announced.
        if (!(await announcedRecently(tx, targetId, 'SYSTEM_FOLLOW', me))) {
          stored.push(await notifications.store(tx, notifications.build.followed(targetId, follower)));
        }
        if (friends) {
          for (const [to, about] of [
            [targetId, follower],
            [me, target],
          ] as const) {
            if (!(await announcedRecently(tx, to, 'SYSTEM_FRIEND', about.id))) {
              stored.push(await notifications.store(tx, notifications.build.becameFriends(to, about)));
            }
          }
          // In id order: friendships forming at once (A–B, B–C, C–A) each lock two users'
          // achievement rows, and taking them in one global order means they cannot deadlock.
          for (const id of [me, targetId].sort()) {
            const m = await achievements.unlock(tx, id, 'FIRST_FRIEND');
            if (m) {
              stored.push(m);
              unlocked.push(id);
            }
          }
        }
        return { friends, stored };
      });
      await onChange([me, targetId]);
      for (const id of unlocked) achievements.remember(id, 'FIRST_FRIEND');
      await notifications.publish(stored);
      return { following: true, friends };
    },

    async unfollow(me: string, targetId: string): Promise<{ following: false; friends: false }> {
      if (me === targetId) throw new AppError('VALIDATION', 'You cannot unfollow yourself');
      await countAction(me);
      await requireUser(targetId);
      await prisma.follow.deleteMany({ where: { followerId: me, followeeId: targetId } });
      await onChange([me, targetId]);
      return { following: false, friends: false };
    },
  };
}
export type FollowService = ReturnType<typeof createFollowService>;
