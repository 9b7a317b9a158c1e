// The host app's routes: people, follows, friends, works, tasks, achievements.
import { Router } from 'express';
import { z } from 'zod';
import { currentUser } from '../auth/middleware.ts';
import { idParam, parse } from '../http/validate.ts';
import type { PresenceService } from '../realtime/presenceService.ts';
import type { UnreadService } from '../chat/unread.ts';
import type { FriendEntry } from '../realtime/events.ts';
import type { AchievementService } from './achievements/service.ts';
import type { FollowService } from './follows/service.ts';
import type { TaskService } from './tasks/service.ts';
import type { UserService } from './users/service.ts';
import type { WorkService } from './works/service.ts';
import { publicUserSelect } from './users/public.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';

export interface HostDeps {
  prisma: PrismaClient;
  users: UserService;
  follows: FollowService;
  works: WorkService;
  tasks: TaskService;
  achievements: AchievementService;
  presence: PresenceService;
  unread: UnreadService;
}

const UsersQuery = z.object({
  q: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});
const NewWork = z.strictObject({
  title: z.string().trim().min(1).max(120),
  price: z.number().int('must be a whole number of coins').min(0).max(1_000_000_000),
});

export function hostRoutes(d: HostDeps): Router {
  const r = Router();

  r.get('/users', async (req, res) => {
    const { q, limit, cursor } = parse(UsersQuery, req.query);
    res.json(await d.users.search(currentUser(req), q, limit, cursor));
  });

  r.post('/follows/:userId', async (req, res) => {
    const { userId } = parse(idParam('userId'), req.params);
    res.status(201).json(await d.follows.follow(currentUser(req), userId));
  });
  r.delete('/follows/:userId', async (req, res) => {
    const { userId } = parse(idParam('userId'), req.params);
    res.json(await d.follows.unfollow(currentUser(req), userId));
  });

  r.get('/friends', async (req, res) => {
    const me = currentUser(req);
    const ids = await d.follows.friendIds(me);
    const [users, online, counts] = await Promise.all([
      d.prisma.user.findMany({
        where: { id: { in: ids } },
        select: { ...publicUserSelect, lastSeenAt: true },
        orderBy: { displayName: 'asc' },
      }),
      d.presence.onlineAmong(ids),
      d.unread.counts(me),
    ]);
    const friends: FriendEntry[] = users.map(({ lastSeenAt, ...user }) => ({
      user,
      online: online.has(user.id),
      lastSeenAt: lastSeenAt?.toISOString() ?? null,
      unread: counts.byPeer[user.id] ?? 0,
    }));
    res.json({ friends });
  });

  r.get('/works', async (req, res) => {
    res.json({ works: await d.works.list(currentUser(req)) });
  });
  r.post('/works', async (req, res) => {
    res.status(201).json({ work: await d.works.create(currentUser(req), parse(NewWork, req.body ?? {})) });
  });
  r.post('/works/:id/purchase', async (req, res) => {
    const { id } = parse(idParam('id'), req.params);
    res.status(201).json({ purchase: await d.works.purchase(currentUser(req), id) });
  });

  r.get('/tasks', async (req, res) => {
    res.json({ tasks: await d.tasks.list(currentUser(req)) });
  });
  r.post('/tasks/:id/complete', async (req, res) => {
    const { id } = parse(idParam('id'), req.params);
    res.status(201).json({ task: await d.tasks.complete(currentUser(req), id) });
  });

  r.get('/achievements', async (req, res) => {
    res.json({ achievements: await d.achievements.list(currentUser(req)) });
  });

  return r;
}
