// Issue 12, group chat live (DESIGN.md, "Groups", socket events): a group message reaches every
// member's tabs and no one else's; a member who leaves or is removed gets nothing more; a member
// added mid-conversation gets the next message on every tab, including tabs opened later;
// typing, reads, recalls and membership events go to the members.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnreadCounts, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { quietPeriod } from '../helpers/chat.ts';
import { createGroup, groupState, sendToGroup, usersWithFriend } from '../helpers/groups.ts';

type Msg = { message: WireMessage };

describe.each(dbTargets())('groups live on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const sendOverSocket = (socket: ClientSocket, groupId: string, content: string, clientId: string = randomUUID()) =>
    emitAck(socket, 'chat:send', { groupId, content, clientId });
  /** Resolves with the next chat:message about `id` (a message id) on this socket. */
  const receives = (socket: ClientSocket, content: string) => waitFor<Msg>(socket, 'chat:message', 5000, (p) => p.message.content === content);

  it('delivers a group message to every member’s tabs, the sender’s other tabs, and no one else', async () => {
    const [alice, bob, carol, dave] = await usersWithFriend(s, 4);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const aliceTab = await s.connect(alice!);
    const aliceOther = await s.connect(alice!);
    const bobTabs = [await s.connect(bob!), await s.connect(bob!)];
    const carolTab = await s.connect(carol!);
    const daveTab = await s.connect(dave!); // alice's friend, not in the group
    const daveSees = collect(daveTab, 'chat:message');
    const senderSees = collect(aliceTab, 'chat:message');

    const arrivals = [aliceOther, ...bobTabs, carolTab].map((t) => receives(t, 'hi all'));
    const ack = await sendOverSocket(aliceTab, group.id, 'hi all');
    expect(ack.ok).toBe(true);
    expect(ack.message).toMatchObject({ groupId: group.id, toUserId: null, fromUserId: alice!.id, content: 'hi all' });
    for (const got of await Promise.all(arrivals)) expect(got.message).toEqual(ack.message);

    // Over HTTP the same.
    const viaHttp = [aliceTab, ...bobTabs, carolTab].map((t) => receives(t, 'over http'));
    const sent = await sendToGroup(s, bob!, group.id, 'over http');
    for (const got of await Promise.all(viaHttp)) expect(got.message.id).toBe(sent.id);

    await quietPeriod();
    expect(daveSees).toEqual([]);
    expect(senderSees.map((p) => p.message.content)).toEqual(['over http']);
  });

  it('answers a resent clientId with the first message and pushes nothing again', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const aliceTab = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const bobSees = collect(bobTab, 'chat:message');
    const arrival = waitFor(bobTab, 'chat:message');
    const first = await sendOverSocket(aliceTab, group.id, 'once', 'same-id');
    await arrival;
    const again = await sendOverSocket(aliceTab, group.id, 'twice?', 'same-id');
    expect(again).toEqual(first);
    await quietPeriod();
    expect(bobSees).toHaveLength(1);
  });

  it('refuses socket sends, reads and typing from non-members and bad payloads, storing nothing', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const outsider = await s.register();
    const group = await createGroup(s, alice!, [bob!]);
    const tab = await s.connect(outsider);
    const aliceTab = await s.connect(alice!);
    const before = await groupState(s, group.id);
    const code = async (event: string, payload: unknown) => ((await emitAck(tab, event, payload)) as { error?: { code: string } }).error?.code;
    expect(await code('chat:send', { groupId: group.id, content: 'hi', clientId: 'c' })).toBe('NOT_MEMBER');
    expect(await code('chat:read', { groupId: group.id })).toBe('NOT_MEMBER');
    expect(await code('chat:typing', { groupId: group.id, typing: true })).toBe('NOT_MEMBER');
    expect(await code('chat:send', { groupId: 'nope', content: 'hi', clientId: 'c' })).toBe('VALIDATION');
    expect(await code('chat:send', { groupId: group.id, to: bob!.id, content: 'hi', clientId: 'c' })).toBe('VALIDATION');
    expect(await code('chat:read', { groupId: 42 })).toBe('VALIDATION');
    expect(await code('chat:send', { groupId: '00000000-0000-4000-8000-000000000009', content: 'hi', clientId: 'c' })).toBe('NOT_FOUND');
    const aliceCode = async (event: string, payload: unknown) => ((await emitAck(aliceTab, event, payload)) as { error?: { code: string } }).error?.code;
    expect(await aliceCode('chat:send', { groupId: group.id, content: '   ', clientId: 'c' })).toBe('VALIDATION');
    expect(await groupState(s, group.id)).toEqual(before);
  });

  it('stops every tab of a member who leaves or is removed, and they still see their own leave/removal event', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const aliceTab = await s.connect(alice!);
    const bobTabs = [await s.connect(bob!), await s.connect(bob!)];
    const carolTab = await s.connect(carol!);

    const leftNotice = bobTabs.map((t) => waitFor<Msg>(t, 'chat:message', 5000, (p) => p.message.messageType === 'GROUP_EVENT'));
    const leftEvent = waitFor(aliceTab, 'group:member', 5000, (p) => p.event === 'left');
    const bobEvent = waitFor(bobTabs[0]!, 'group:member', 5000, (p) => p.event === 'left');
    expect((await s.request('DELETE', `/api/groups/${group.id}/members/${bob!.id}`, { token: bob!.token })).status).toBe(204);
    for (const n of await Promise.all(leftNotice)) expect(n.message).toMatchObject({ metadata: { event: 'left', actor: { id: bob!.id } } });
    expect(await leftEvent).toMatchObject({ groupId: group.id, event: 'left', userIds: [bob!.id], by: bob!.id, group: { memberCount: 2 } });
    expect(await bobEvent).toMatchObject({ event: 'left', userIds: [bob!.id] });

    const bobSees = bobTabs.map((t) => collect(t, 'chat:message'));
    const removed = waitFor(carolTab, 'group:member', 5000, (p) => p.event === 'removed');
    expect((await s.request('DELETE', `/api/groups/${group.id}/members/${carol!.id}`, { token: alice!.token })).status).toBe(204);
    expect(await removed).toMatchObject({ event: 'removed', userIds: [carol!.id], by: alice!.id });
    const carolSees = collect(carolTab, 'chat:message');

    // The next message reaches no former member (alice's own other tab proves it went out).
    const aliceOther = await s.connect(alice!);
    const proof = receives(aliceOther, 'only alice now');
    await sendOverSocket(aliceTab, group.id, 'only alice now');
    await proof;
    await quietPeriod();
    expect(bobSees.flat()).toEqual([]);
    expect(carolSees).toEqual([]);
    // Nor a tab they open later.
    const bobLater = await s.connect(bob!);
    const bobLaterSees = collect(bobLater, 'chat:message');
    const proof2 = receives(aliceOther, 'still only alice');
    await sendOverSocket(aliceTab, group.id, 'still only alice');
    await proof2;
    await quietPeriod();
    expect(bobLaterSees).toEqual([]);
  });

  it('delivers to a member added mid-conversation on every tab at once, and to tabs they open later', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!]);
    const aliceTab = await s.connect(alice!);
    const carolTabs = [await s.connect(carol!), await s.connect(carol!)];
    const before = carolTabs.map((t) => collect(t, 'chat:message'));
    await sendOverSocket(aliceTab, group.id, 'before carol');

    const addedEvent = carolTabs.map((t) => waitFor(t, 'group:member', 5000, (p) => p.event === 'added'));
    const r = await s.request('POST', `/api/groups/${group.id}/members`, { token: alice!.token, body: { userIds: [carol!.id] } });
    expect(r.status).toBe(200);
    for (const e of await Promise.all(addedEvent)) {
      expect(e).toMatchObject({ groupId: group.id, event: 'added', userIds: [carol!.id], by: alice!.id, group: { id: group.id, name: group.name } });
    }
    // Each tab: the "added" notice, none of the earlier messages.
    for (const seen of before) expect(seen.map((p) => p.message.messageType)).toEqual(['GROUP_EVENT']);
    const arrivals = carolTabs.map((t) => receives(t, 'welcome carol'));
    await sendOverSocket(aliceTab, group.id, 'welcome carol');
    await Promise.all(arrivals);
    const carolLater = await s.connect(carol!);
    const later = receives(carolLater, 'hello new tab');
    await sendToGroup(s, bob!, group.id, 'hello new tab');
    await later;
  });

  it('relays typing to the other members with `from` and `groupId`, not to the typist’s tabs or outsiders', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!]);
    const aliceTab = await s.connect(alice!);
    const aliceOther = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const carolTab = await s.connect(carol!);
    const echoes = [collect(aliceOther, 'chat:typing'), collect(carolTab, 'chat:typing')];
    const typing = waitFor(bobTab, 'chat:typing');
    expect(await emitAck(aliceTab, 'chat:typing', { groupId: group.id, typing: true })).toEqual({ ok: true });
    expect(await typing).toEqual({ from: alice!.id, typing: true, groupId: group.id });
    await quietPeriod();
    expect(echoes.flat()).toEqual([]);
  });

  it('moves the read position on chat:read { groupId }: group:read to the members, counts to the reader', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const aliceTab = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const bobOther = await s.connect(bob!);
    await sendToGroup(s, alice!, group.id, 'read me');
    await sendToGroup(s, alice!, group.id, 'and me');
    expect((await s.request('GET', '/api/messages/unread/count', { token: bob!.token })).body.byGroup).toEqual({ [group.id]: 2 });
    const receipt = waitFor(aliceTab, 'group:read');
    const otherTab = waitFor(bobOther, 'group:read');
    const counts = waitFor<UnreadCounts>(bobOther, 'unread:update', 5000, (c) => !(group.id in c.byGroup));
    const ack = await emitAck(bobTab, 'chat:read', { groupId: group.id });
    expect(ack).toMatchObject({ ok: true, updated: 2 });
    expect(await receipt).toEqual({ groupId: group.id, userId: bob!.id, readAt: ack.readAt });
    expect(await otherTab).toEqual({ groupId: group.id, userId: bob!.id, readAt: ack.readAt });
    expect((await counts).byGroup).toEqual({});
  });

  it('tells the members of a recall (chat:deleted with groupId) and recounts those who had not read it', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const aliceTab = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const sent = await sendOverSocket(aliceTab, group.id, 'take it back');
    const deleted = waitFor(bobTab, 'chat:deleted');
    const counts = waitFor<UnreadCounts>(bobTab, 'unread:update');
    expect((await s.request('DELETE', `/api/messages/${sent.message.id}`, { token: alice!.token })).status).toBe(204);
    expect(await deleted).toEqual({ messageId: sent.message.id, groupId: group.id, deletedAt: expect.any(String) });
    expect((await counts).byGroup).toEqual({});
  });

  it('tells members of renames and settings (group:update), role changes and ownership passing on (group:member role)', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const carolTab = await s.connect(carol!);
    const update = waitFor(carolTab, 'group:update');
    await s.request('PATCH', `/api/groups/${group.id}`, { token: alice!.token, body: { name: 'Renamed' } });
    expect(await update).toMatchObject({ group: { id: group.id, name: 'Renamed' } });
    const role = waitFor(carolTab, 'group:member', 5000, (p) => p.event === 'role');
    await s.request('PATCH', `/api/groups/${group.id}/members/${bob!.id}`, { token: alice!.token, body: { role: 'admin' } });
    expect(await role).toMatchObject({ event: 'role', userIds: [bob!.id], role: 'admin', by: alice!.id });
    const owner = waitFor(carolTab, 'group:member', 5000, (p) => p.event === 'role' && p.role === 'owner');
    const ownerUpdate = waitFor(carolTab, 'group:update', 5000, (p) => p.group.ownerId === bob!.id);
    await s.request('DELETE', `/api/groups/${group.id}/members/${alice!.id}`, { token: alice!.token });
    expect(await owner).toMatchObject({ userIds: [bob!.id], by: alice!.id });
    await ownerUpdate;
  });

  it('tells every member’s tabs (the creator’s other tabs too) about a new group', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const aliceOther = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const events = [aliceOther, bobTab].map((t) => waitFor(t, 'group:member', 5000, (p) => p.event === 'added'));
    const notices = [aliceOther, bobTab].map((t) => waitFor<Msg>(t, 'chat:message'));
    const group = await createGroup(s, alice!, [bob!], { name: 'Fresh' });
    for (const e of await Promise.all(events)) expect(e).toMatchObject({ groupId: group.id, userIds: [alice!.id, bob!.id], group: { name: 'Fresh' } });
    for (const n of await Promise.all(notices)) expect(n.message).toMatchObject({ groupId: group.id, messageType: 'GROUP_EVENT' });
    // And the new group's messages reach them at once.
    const arrival = receives(bobTab, 'first words');
    await sendToGroup(s, alice!, group.id, 'first words');
    await arrival;
  });

  it('returns group messages in chat:sync', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const m = await sendToGroup(s, alice!, group.id, 'synced');
    const bobTab = await s.connect(bob!);
    const page = await emitAck(bobTab, 'chat:sync', { limit: 100 });
    expect(page.ok).toBe(true);
    expect(page.messages.map((x: WireMessage) => x.id)).toContain(m.id);
  });
});
