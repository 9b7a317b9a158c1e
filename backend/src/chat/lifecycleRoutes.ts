// The HTTP edge of the message lifecycle (DESIGN.md, "Message lifecycle"): edit and reactions,
// with the input schemas the socket handlers (socket.ts) share.
import { Router } from 'express';
import { z } from 'zod';
import { currentUser } from '../http/identity.ts';
import { idParam, parse, uuid } from '../http/validate.ts';
import type { Lifecycle } from './lifecycle.ts';
import { Emoji } from './reactions.ts';
import { Content } from './schemas.ts';

export const EditBody = z.strictObject({ content: Content });
export const EditEvent = z.strictObject({ messageId: uuid, content: Content });
export const ReactEvent = z.strictObject({ messageId: uuid, emoji: Emoji, on: z.boolean() });
/** A batch of received messages: 1–100 ids. */
export const DeliveredEvent = z.strictObject({ messageIds: z.array(uuid).min(1).max(100) });
const ReactionParams = z.object({ messageId: uuid, emoji: Emoji });

/** PATCH /messages/:messageId, PUT and DELETE /messages/:messageId/reactions/:emoji. */
export function lifecycleRoutes(lifecycle: Lifecycle): Router {
  const r = Router();
  r.patch('/messages/:messageId', async (req, res) => {
    const { messageId } = parse(idParam('messageId'), req.params);
    const { content } = parse(EditBody, req.body ?? {});
    res.json({ message: await lifecycle.edit(currentUser(res), messageId, content) });
  });
  // The emoji arrives percent-encoded in the path; Express hands it over decoded.
  r.put('/messages/:messageId/reactions/:emoji', async (req, res) => {
    const { messageId, emoji } = parse(ReactionParams, req.params);
    res.json(await lifecycle.react(currentUser(res), messageId, emoji, true));
  });
  r.delete('/messages/:messageId/reactions/:emoji', async (req, res) => {
    const { messageId, emoji } = parse(ReactionParams, req.params);
    res.json(await lifecycle.react(currentUser(res), messageId, emoji, false));
  });
  return r;
}
