// /api/groups… and /api/mutes… (DESIGN.md, "Groups"). Every input is parsed here; the services
// assume valid data. Group messages are sent through the message service, like direct ones.
import { Router } from 'express';
import { currentUser } from '../http/identity.ts';
import { parse } from '../http/validate.ts';
import type { MessageService } from '../chat/service.ts';
import { HistoryQuery, SendBody } from '../chat/schemas.ts';
import type { GroupService } from './service.ts';
import type { MuteService } from './mutes.ts';
import { AddMembersBody, CreateGroupBody, DiscoverQuery, GroupParams, MemberParams, MuteBody, MuteParams, RoleBody, UpdateGroupBody } from './schemas.ts';

export function groupRoutes(groups: GroupService, mutes: MuteService, messages: MessageService): Router {
  const r = Router();

  r.post('/groups', async (req, res) => {
    const body = parse(CreateGroupBody, req.body ?? {});
    res.status(201).json({ group: await groups.create(currentUser(res), body) });
  });
  r.get('/groups', async (_req, res) => {
    res.json({ groups: await groups.list(currentUser(res)) });
  });
  r.get('/groups/discover', async (req, res) => {
    const { q, cursor, limit } = parse(DiscoverQuery, req.query);
    res.json(await groups.discover(q, cursor, limit));
  });
  r.get('/groups/:groupId', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    res.json(await groups.details(currentUser(res), groupId));
  });
  r.patch('/groups/:groupId', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    const patch = parse(UpdateGroupBody, req.body ?? {});
    res.json({ group: await groups.update(currentUser(res), groupId, patch) });
  });
  r.post('/groups/:groupId/members', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    const { userIds } = parse(AddMembersBody, req.body ?? {});
    res.json(await groups.addMembers(currentUser(res), groupId, userIds));
  });
  r.post('/groups/:groupId/join', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    res.json({ group: await groups.join(currentUser(res), groupId) });
  });
  r.delete('/groups/:groupId/members/:userId', async (req, res) => {
    const { groupId, userId } = parse(MemberParams, req.params);
    await groups.removeMember(currentUser(res), groupId, userId);
    res.status(204).end();
  });
  r.patch('/groups/:groupId/members/:userId', async (req, res) => {
    const { groupId, userId } = parse(MemberParams, req.params);
    const { role } = parse(RoleBody, req.body ?? {});
    res.json(await groups.setRole(currentUser(res), groupId, userId, role));
  });
  r.get('/groups/:groupId/messages', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    const { before, limit } = parse(HistoryQuery, req.query);
    res.json(await groups.history(currentUser(res), groupId, before, limit));
  });
  r.post('/groups/:groupId/messages', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    const body = parse(SendBody, req.body ?? {});
    const { message } = await messages.send({ ...body, from: currentUser(res), groupId });
    res.status(201).json({ message });
  });
  r.post('/groups/:groupId/read', async (req, res) => {
    const { groupId } = parse(GroupParams, req.params);
    const { readAt } = await groups.markRead(currentUser(res), groupId);
    res.json({ readAt });
  });

  r.put('/mutes/:kind/:id', async (req, res) => {
    const { kind, id } = parse(MuteParams, req.params);
    const { until } = parse(MuteBody, req.body ?? {});
    res.json({ mute: await mutes.set(currentUser(res), kind, id, until ?? null) });
  });
  r.delete('/mutes/:kind/:id', async (req, res) => {
    const { kind, id } = parse(MuteParams, req.params);
    await mutes.remove(currentUser(res), kind, id);
    res.status(204).end();
  });
  return r;
}
