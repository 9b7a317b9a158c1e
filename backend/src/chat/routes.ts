import { Router } from 'express';
import { currentUser } from '../auth/middleware.ts';
import { idParam, parse } from '../http/validate.ts';
import type { MessageService } from './service.ts';
import type { UnreadService } from './unread.ts';
import { HistoryQuery, SendBody, SyncQuery } from './schemas.ts';

/** /api/messages/* for chat. Mounted after the notification routes' fixed paths. */
export function chatRoutes(messages: MessageService, unread: UnreadService): Router {
  const r = Router();
  r.get('/messages/conversations/list', async (req, res) => {
    res.json({ conversations: await messages.conversations(currentUser(req)) });
  });
  r.get('/messages/unread/count', async (req, res) => {
    res.json(await unread.counts(currentUser(req)));
  });
  r.get('/messages/sync', async (req, res) => {
    const { after, limit } = parse(SyncQuery, req.query);
    res.json(await messages.sync(currentUser(req), after, limit));
  });
  r.get('/messages/:userId', async (req, res) => {
    const { userId } = parse(idParam('userId'), req.params);
    const { before, limit } = parse(HistoryQuery, req.query);
    res.json(await messages.history(currentUser(req), userId, before, limit));
  });
  r.post('/messages/:userId', async (req, res) => {
    const { userId } = parse(idParam('userId'), req.params);
    const { content, clientId } = parse(SendBody, req.body ?? {});
    const { message } = await messages.send({ from: currentUser(req), to: userId, content, clientId });
    res.status(201).json({ message });
  });
  r.post('/messages/:userId/read', async (req, res) => {
    const { userId } = parse(idParam('userId'), req.params);
    res.json(await messages.markRead(currentUser(req), userId));
  });
  r.delete('/messages/:messageId', async (req, res) => {
    const { messageId } = parse(idParam('messageId'), req.params);
    await messages.remove(currentUser(req), messageId);
    res.status(204).end();
  });
  return r;
}
