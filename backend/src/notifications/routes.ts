import { Router } from 'express';
import { z } from 'zod';
import { currentUser } from '../http/identity.ts';
import { limitQuery, parse, uuid } from '../http/validate.ts';
import type { NotificationInbox } from './inbox.ts';

const ListQuery = z.object({
  before: z.string().min(1).max(200).optional(),
  limit: limitQuery,
  unreadOnly: z.enum(['true', 'false', '1', '0']).optional().transform((v) => v === 'true' || v === '1'),
});
const MarkRead = z.union([z.strictObject({ ids: z.array(uuid).min(1).max(500) }), z.strictObject({ all: z.literal(true) })]);

export function notificationRoutes(inbox: NotificationInbox): Router {
  const r = Router();
  r.get('/messages/system/list', async (req, res) => {
    res.json(await inbox.list(currentUser(res), parse(ListQuery, req.query)));
  });
  r.post('/messages/system/mark-read', async (req, res) => {
    res.json(await inbox.markRead(currentUser(res), parse(MarkRead, req.body ?? {})));
  });
  return r;
}
