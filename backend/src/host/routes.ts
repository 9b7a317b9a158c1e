// The host app's routes: people, follows, works, tasks, achievements. (The friends list with
// presence and unread counts is the chat module's: /api/friends.)
import { Router } from 'express';
import { z } from 'zod';
import { idParam, parse } from 'friend-chat/server';
import { currentUser } from '../auth/middleware.ts';
import type { AchievementService } from './achievements/service.ts';
import type { FollowService } from './follows/service.ts';
import type { TaskService } from './tasks/service.ts';
import type { UserService } from './users/service.ts';
import type { WorkService } from './works/service.ts';

export interface HostDeps {
  users: UserService;
  follows: FollowService;
  works: WorkService;
  tasks: TaskService;
  achievements: AchievementService;
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
