import { Router } from 'express';
import { currentUser } from '../http/identity.ts';
import { idParam, parse, userIdParam } from '../http/validate.ts';
import type { MessageService } from './service.ts';
import type { UnreadService } from './unread.ts';
import type { FriendList } from './friends.ts';
import type { GroupService } from '../groups/service.ts';
import { HistoryQuery, SendBody, SyncQuery } from './schemas.ts';

/** /api/messages/* for chat and /api/friends. Mounted after the notification routes' fixed paths. */
export function chatRoutes(messages: MessageService, unread: UnreadService, friendList: FriendList, groups: GroupService): Router {
  const r = Router();
  r.get('/friends', async (_req, res) => {
    res.json({ friends: await friendList.of(currentUser(res)) });
  });
  r.get('/messages/conversations/list', async (_req, res) => {
    const me = currentUser(res);
    // Direct conversations and groups, newest first (ISO times compare as text).
    const [direct, inGroups] = await Promise.all([messages.conversations(me), groups.conversations(me)]);
    const conversations = [...direct, ...inGroups].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
    res.json({ conversations });
  });
  r.get('/messages/unread/count', async (_req, res) => {
    res.json(await unread.counts(currentUser(res)));
  });
  r.get('/messages/sync', async (req, res) => {
    const { after, limit } = parse(SyncQuery, req.query);
    res.json(await messages.sync(currentUser(res), after, limit));
  });
  r.get('/messages/:userId', async (req, res) => {
    const { userId } = parse(userIdParam('userId'), req.params);
    const { before, limit } = parse(HistoryQuery, req.query);
    res.json(await messages.history(currentUser(res), userId, before, limit));
  });
  r.post('/messages/:userId', async (req, res) => {
    const { userId } = parse(userIdParam('userId'), req.params);
    const body = parse(SendBody, req.body ?? {});
    const { message } = await messages.send({ ...body, from: currentUser(res), to: userId });
    res.status(201).json({ message });
  });
  r.post('/messages/:userId/read', async (req, res) => {
    const { userId } = parse(userIdParam('userId'), req.params);
    res.json(await messages.markRead(currentUser(res), userId));
  });
  r.delete('/messages/:messageId', async (req, res) => {
    const { messageId } = parse(idParam('messageId'), req.params);
    await messages.remove(currentUser(res), messageId);
    res.status(204).end();
  });
  return r;
}
