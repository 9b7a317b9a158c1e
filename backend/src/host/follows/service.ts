// Follows and friendship. Friends = mutual follow. The chat module asks only `areFriends` and
// `friendIds` (its FriendGraph port) and is told of every change (`chat.friendsChanged`).
import { AppError, notFound, type ChatUser, type FriendChat } from 'friend-chat/server';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { AchievementService } from '../achievements/service.ts';
import { build } from '../notifications.ts';
import { isUuid, publicUserSelect } from '../users/public.ts';
import { unlimited, type FollowLimiter } from './limiter.ts';
import type { Tx } from '../achievements/service.ts';

/**
 * A follower→followee pair is announced at most once in this long (SYSTEM_FOLLOW, and
 * SYSTEM_FRIEND when the follow re-makes a friendship), so follow/unfollow cycles do not flood
 * anyone. Counted from the stored notifications, deleted ones included: dismissing one does not
 * invite the next.
 */
export const FOLLOW_NOTICE_WINDOW_MS = 24 * 60 * 60 * 1000;

export function createFollowService(prisma: PrismaClient, chat: FriendChat, achievements: AchievementService, limiter: FollowLimiter = unlimited) {
  async function areFriends(a: string, b: string): Promise<boolean> {
    if (a === b || !isUuid(a) || !isUuid(b)) return false;
    const n = await prisma.follow.count({
      where: { OR: [{ followerId: a, followeeId: b }, { followerId: b, followeeId: a }] },
    });
    return n === 2;
  }

  // One join of the follows both ways (the ORM's relation filter probed the User table once per
  // follow row: ~29 index scans per presence change at scale, bench/README.md).
  async function friendIds(userId: string): Promise<string[]> {
    if (!isUuid(userId)) return [];
    const rows = await prisma.$queryRaw<{ id: string }[]>`
      SELECT f."followeeId"::text AS id FROM "public"."Follow" f
      JOIN "public"."Follow" b ON b."followerId" = f."followeeId" AND b."followeeId" = f."followerId"
      WHERE f."followerId" = ${userId}::uuid`;
    return rows.map((r) => r.id);
  }

  /** friendIds of many users in one query (the chat announces presence changes in batches). */
  async function friendIdsMany(userIds: string[]): Promise<Map<string, string[]>> {
    const ids = userIds.filter(isUuid);
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    // Per user a lateral lookup, as friendIds does it: one join of `= ANY(…)` against the whole
    // table let the planner pick a sequential scan of Follow for a large batch.
    const rows = await prisma.$queryRaw<{ user: string; friend: string }[]>`
      SELECT u.id::text AS "user", f."followeeId"::text AS friend FROM unnest(${ids}::uuid[]) AS u(id)
      CROSS JOIN LATERAL (
        SELECT f."followeeId" FROM "public"."Follow" f
        WHERE f."followerId" = u.id
          AND EXISTS (SELECT 1 FROM "public"."Follow" b WHERE b."followerId" = f."followeeId" AND b."followeeId" = u.id)
      ) f`;
    for (const r of rows) {
      let list = out.get(r.user);
      if (!list) out.set(r.user, (list = []));
      list.push(r.friend);
    }
    return out;
  }

  async function countAction(me: string): Promise<void> {
    if (!(await limiter.take(me))) throw new AppError('RATE_LIMITED', 'Too many follows and unfollows, try again in a minute');
  }

  /** Whether `to` was told within the window that `about` followed them (or became their friend). */
  function announcedRecently(tx: Tx, to: string, type: 'SYSTEM_FOLLOW' | 'SYSTEM_FRIEND', about: string): Promise<boolean> {
    const since = new Date(Date.now() - FOLLOW_NOTICE_WINDOW_MS);
    return chat.notifications.sentSince(tx, to, { type, since, path: [type === 'SYSTEM_FOLLOW' ? 'follower' : 'friend', 'id'], equals: about });
  }

  async function requireUser(id: string): Promise<ChatUser> {
    const user = await prisma.user.findUnique({ where: { id }, select: publicUserSelect });
    if (!user) throw notFound('User');
    return user;
  }

  return {
    areFriends,
    friendIds,
    friendIdsMany,

    async follow(me: string, targetId: string): Promise<{ following: true; friends: boolean }> {
      if (me === targetId) throw new AppError('VALIDATION', 'You cannot follow yourself');
      await countAction(me);
      const [target, follower] = await Promise.all([requireUser(targetId), requireUser(me)]);
      const unlocked: string[] = [];
      const friends = await chat.notifications.transaction(
        prisma,
        async (tx, notify) => {
          // Serialize follows between the same two people, so two crossing follows see each
          // other and exactly one of them announces the friendship.
          const pair = [me, targetId].sort().join(':');
          await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${pair}))::text`;
          const { count } = await tx.follow.createMany({ data: [{ followerId: me, followeeId: targetId }], skipDuplicates: true });
          const reverse = await tx.follow.findUnique({
            where: { followerId_followeeId: { followerId: targetId, followeeId: me } },
          });
          const friends = reverse !== null;
          if (count === 0) return friends; // already following: nothing new happened
          const send = (n: { userId: string; draft: Parameters<typeof notify>[1] }) => notify(n.userId, n.draft);
          // Under the pair's lock, so two crossing follows cannot both find nothing announced.
          if (!(await announcedRecently(tx, targetId, 'SYSTEM_FOLLOW', me))) await send(build.followed(targetId, follower));
          if (friends) {
            for (const [to, about] of [
              [targetId, follower],
              [me, target],
            ] as const) {
              if (!(await announcedRecently(tx, to, 'SYSTEM_FRIEND', about.id))) await send(build.becameFriends(to, about));
            }
            // In id order: friendships forming at once (A–B, B–C, C–A) each lock two users'
            // achievement rows, and taking them in one global order means they cannot deadlock.
            for (const id of [me, targetId].sort()) {
              if (await achievements.unlock(tx, notify, id, 'FIRST_FRIEND')) unlocked.push(id);
            }
          }
          return friends;
        },
        {
          // Before the pushes: no node may still hold the old friendship when they arrive.
          async afterCommit() {
            await chat.friendsChanged(me, targetId);
            for (const id of unlocked) achievements.remember(id, 'FIRST_FRIEND');
          },
        },
      );
      return { following: true, friends };
    },

    async unfollow(me: string, targetId: string): Promise<{ following: false; friends: false }> {
      if (me === targetId) throw new AppError('VALIDATION', 'You cannot unfollow yourself');
      await countAction(me);
      await requireUser(targetId);
      await prisma.follow.deleteMany({ where: { followerId: me, followeeId: targetId } });
      await chat.friendsChanged(me, targetId);
      return { following: false, friends: false };
    },
  };
}
export type FollowService = ReturnType<typeof createFollowService>;
