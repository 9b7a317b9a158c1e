// Edits and replies (DESIGN.md, "Message lifecycle").
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';

describe.each(dbTargets())('edits and replies on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const edit = (u: TestUser, id: string, content: string) => s.request('PATCH', `/api/messages/${id}`, { token: u.token, body: { content } });
  const stored = async (id: string) => s.app.db.prisma.message.findUniqueOrThrow({ where: { id }, select: { content: true, editedAt: true } });
  const history = async (me: TestUser, peer: TestUser) =>
    (await s.request('GET', `/api/messages/${peer.id}`, { token: me.token })).body.messages as WireMessage[];

  it('lets the sender edit a text message: both sides get chat:edited, history shows the new content and editedAt', async () => {
    const [alice, bob] = await friendPair(s);
    const [aliceTab, aliceOther, bobTab] = [await s.connect(alice), await s.connect(alice), await s.connect(bob)];
    const m = await sendOverHttp(s, alice, bob.id, 'helo');
    expect(m.editedAt).toBeNull();

    const pushes = [aliceOther, bobTab].map((t) => waitFor(t, 'chat:edited'));
    const r = await edit(alice, m.id, '  hello  ');
    expect(r.status).toBe(200);
    expect(r.body.message).toMatchObject({ id: m.id, content: 'hello', editedAt: expect.any(String), createdAt: m.createdAt });
    for (const p of await Promise.all(pushes)) expect(p).toEqual({ message: r.body.message });
    expect((await history(bob, alice)).find((x) => x.id === m.id)).toEqual(r.body.message);

    // Over the socket too.
    const again = await emitAck(aliceTab, 'chat:edit', { messageId: m.id, content: 'hello!' });
    expect(again).toMatchObject({ ok: true, message: { content: 'hello!' } });
  });

  it('refuses someone else’s message, a system message, a recalled one, a closed window, bad content — changing nothing', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    const m = await sendOverHttp(s, alice, bob.id, 'original');
    const code = async (u: TestUser, id: string, content = 'changed') => {
      const r = await edit(u, id, content);
      return [r.status, r.body.error?.code];
    };
    expect(await code(bob, m.id)).toEqual([403, 'FORBIDDEN']); // the recipient
    expect(await code(carol, m.id)).toEqual([404, 'NOT_FOUND']); // a stranger
    const system = (await s.request('GET', '/api/messages/system/list', { token: bob.token })).body.messages[0] as WireMessage;
    expect(await code(bob, system.id)).toEqual([403, 'FORBIDDEN']);
    expect(await code(alice, m.id, '   ')).toEqual([400, 'VALIDATION']);
    expect(await code(alice, 'not-a-uuid')).toEqual([400, 'VALIDATION']);
    expect(await code(alice, randomUUID())).toEqual([404, 'NOT_FOUND']);

    // Older than EDIT_WINDOW_SECONDS (default 900): 409 EDIT_WINDOW_CLOSED.
    const old = await sendOverHttp(s, alice, bob.id, 'too old');
    await s.app.db.prisma.message.update({ where: { id: old.id }, data: { createdAt: new Date(Date.now() - 901_000) } });
    expect(await code(alice, old.id)).toEqual([409, 'EDIT_WINDOW_CLOSED']);
    expect((await stored(old.id)).content).toBe('too old');

    const recalled = await sendOverHttp(s, alice, bob.id, 'recalled');
    expect((await s.request('DELETE', `/api/messages/${recalled.id}`, { token: alice.token })).status).toBe(204);
    expect(await code(alice, recalled.id)).toEqual([404, 'NOT_FOUND']);

    for (const id of [m.id, system.id, recalled.id]) expect((await stored(id)).editedAt).toBeNull();
    expect((await stored(m.id)).content).toBe('original');
  });

  it('in a group: the sender edits while a member, the members get chat:edited; a GROUP_EVENT is nobody’s to edit', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const bobTab = await s.connect(bob!);
    const m = await sendToGroup(s, alice!, group.id, 'group text');
    const pushed = waitFor(bobTab, 'chat:edited');
    expect((await edit(alice!, m.id, 'group text, edited')).status).toBe(200);
    expect((await pushed).message).toMatchObject({ id: m.id, groupId: group.id, content: 'group text, edited' });
    expect((await edit(bob!, m.id, 'not yours')).body.error.code).toBe('FORBIDDEN');
    const notice = (await s.request('GET', `/api/groups/${group.id}/messages`, { token: alice!.token })).body.messages.find(
      (x: WireMessage) => x.messageType === 'GROUP_EVENT',
    ) as WireMessage;
    expect((await edit(alice!, notice.id, 'rewritten history')).body.error.code).toBe('FORBIDDEN');
  });

  it('sends replies with replyTo (excerpt of at most 100 characters); a recalled original shows as recalled', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTab = await s.connect(bob);
    const long = `${'😀'.repeat(60)}${'x'.repeat(60)}`;
    const original = await sendOverHttp(s, bob, alice.id, long);
    const live = waitFor(bobTab, 'chat:message');
    const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'replying', replyToId: original.id } });
    expect(r.status).toBe(201);
    const excerpt = `${'😀'.repeat(60)}${'x'.repeat(40)}`;
    expect(r.body.message.replyTo).toEqual({ id: original.id, fromUserId: bob.id, kind: 'text', excerpt, recalled: false });
    expect((await live).message.replyTo).toEqual(r.body.message.replyTo);
    // Over the socket, replying to one's own message.
    const own = await emitAck(bobTab, 'chat:send', { to: alice.id, content: 'and me', clientId: randomUUID(), replyToId: original.id });
    expect(own.message.replyTo).toMatchObject({ id: original.id, excerpt });

    expect((await s.request('DELETE', `/api/messages/${original.id}`, { token: bob.token })).status).toBe(204);
    const shown = (await history(alice, bob)).find((x) => x.id === r.body.message.id)!;
    expect(shown.replyTo).toEqual({ id: original.id, fromUserId: bob.id, kind: 'text', excerpt: null, recalled: true });
  });

  it('refuses a reply to a message of another conversation (404, nothing stored)', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    await s.makeFriends(alice, carol);
    const elsewhere = await sendOverHttp(s, alice, carol.id, 'to carol');
    const [bob2, group] = await (async () => {
      const [owner, member] = await usersWithFriend(s, 2);
      return [member!, await createGroup(s, owner!, [member!])] as const;
    })();
    const inGroup = await sendToGroup(s, bob2, group.id, 'in a group');
    const count = () => s.app.db.prisma.message.count({ where: { fromUserId: alice.id } });
    const before = await count();
    for (const replyToId of [elsewhere.id, inGroup.id, randomUUID()]) {
      const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'reply', replyToId } });
      expect([r.status, r.body.error?.code]).toEqual([404, 'NOT_FOUND']);
    }
    // A group message replying to a direct message, or to another group's.
    const r = await s.request('POST', `/api/groups/${group.id}/messages`, { token: bob2.token, body: { content: 'reply', clientId: randomUUID(), replyToId: elsewhere.id } });
    expect(r.status).toBe(404);
    expect(await count()).toBe(before);
    expect((await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'reply', replyToId: 'nope' } })).status).toBe(400);
  });

  it('lets the host’s own code reply through chat.send', async () => {
    const [alice, bob] = await friendPair(s);
    const original = await sendOverHttp(s, bob, alice.id, 'a question');
    const { message } = await s.app.chat.send({ from: alice.id, to: bob.id, content: 'the answer', replyToId: original.id });
    expect(message.replyTo).toEqual({ id: original.id, fromUserId: bob.id, kind: 'text', excerpt: 'a question', recalled: false });
    await expect(s.app.chat.send({ from: alice.id, to: bob.id, content: 'lost', replyToId: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
