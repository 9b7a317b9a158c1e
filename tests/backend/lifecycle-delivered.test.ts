// Delivered receipts (DESIGN.md, "Message lifecycle"): the recipient's client acknowledges
// messages addressed to it; the first acknowledgement is stored and the sender told.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';

describe.each(dbTargets())('delivered receipts on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const deliveredAtOf = async (ids: string[]) => {
    const rows = await s.app.db.prisma.delivery.findMany({ where: { messageId: { in: ids } } });
    return Object.fromEntries(ids.map((id) => [id, rows.find((r) => r.messageId === id)?.deliveredAt.toISOString() ?? null]));
  };
  const history = async (me: TestUser, peer: TestUser) =>
    (await s.request('GET', `/api/messages/${peer.id}`, { token: me.token })).body.messages as WireMessage[];

  it('stores the first acknowledgement of a batch, answers the acking tab with it and tells the sender and the recipient’s other tabs, once', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const [bobTab, bobOther] = [await s.connect(bob), await s.connect(bob)];
    const sent = [await sendOverHttp(s, alice, bob.id, 'one'), await sendOverHttp(s, alice, bob.id, 'two')];
    expect(sent.every((m) => m.deliveredAt === null)).toBe(true);

    // The row version of each message (xmin: the transaction that wrote it; xmax: one that locked
    // or replaced it) and its change stamp.
    const versions = () =>
      s.app.db.sql<{ id: string; xmin: string; xmax: string; changedAt: Date }>(
        `SELECT id, xmin::text AS xmin, xmax::text AS xmax, "changedAt" FROM ${s.app.db.table('Message')} WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [sent.map((m) => m.id)],
      );
    const before = await versions();

    const toAlice = waitFor(aliceTab, 'chat:delivered');
    const toOther = waitFor(bobOther, 'chat:delivered');
    const toItself = collect(bobTab, 'chat:delivered');
    const answer = await emitAck(bobTab, 'chat:delivered', { messageIds: sent.map((m) => m.id) });
    const push = await toAlice;
    expect(push).toEqual({ by: bob.id, messageIds: sent.map((m) => m.id), deliveredAt: expect.any(String) });
    expect(await toOther).toEqual(push);
    // The acking tab has it in its answer, not as a push.
    expect(answer).toEqual({ ok: true, messageIds: push.messageIds, deliveredAt: push.deliveredAt });
    await quietPeriod();
    expect(toItself).toEqual([]);
    const stored = await deliveredAtOf(sent.map((m) => m.id));
    expect(Object.values(stored)).toEqual([push.deliveredAt, push.deliveredAt]);
    expect((await history(alice, bob)).map((m) => m.deliveredAt)).toEqual([push.deliveredAt, push.deliveredAt]);
    // A receipt is a row of its own: the messages were neither written (any update, heap-only or
    // not, makes a new row version) nor locked (a lock sets xmax).
    expect(await versions()).toEqual(before);

    // Acknowledged again (another tab, a sync): nothing changes, nobody is told.
    const later = collect(aliceTab, 'chat:delivered');
    expect(await emitAck(bobOther, 'chat:delivered', { messageIds: [sent[0]!.id, sent[0]!.id] })).toEqual({ ok: true, messageIds: [], deliveredAt: null });
    await quietPeriod();
    expect(later).toEqual([]);
    expect(await deliveredAtOf(sent.map((m) => m.id))).toEqual(stored);
  });

  it('refuses acknowledgements of messages that are not the caller’s with NOT_FOUND, storing nothing of the batch', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    const [aliceTab, bobTab, carolTab] = [await s.connect(alice), await s.connect(bob), await s.connect(carol)];
    const toBob = await sendOverHttp(s, alice, bob.id, 'for bob');
    const other = await sendOverHttp(s, alice, bob.id, 'also for bob');
    const system = (await s.request('GET', '/api/messages/system/list', { token: bob.token })).body.messages[0] as WireMessage;
    const pushes = collect(aliceTab, 'chat:delivered');

    const notFound = { ok: false, error: { code: 'NOT_FOUND', message: expect.any(String) } };
    // The sender acknowledging their own message; a stranger; an unknown id; a notification;
    // a batch where only one id is wrong.
    expect(await emitAck(aliceTab, 'chat:delivered', { messageIds: [toBob.id] })).toEqual(notFound);
    expect(await emitAck(carolTab, 'chat:delivered', { messageIds: [toBob.id] })).toEqual(notFound);
    expect(await emitAck(bobTab, 'chat:delivered', { messageIds: [randomUUID()] })).toEqual(notFound);
    expect(await emitAck(bobTab, 'chat:delivered', { messageIds: [system.id] })).toEqual(notFound);
    expect(await emitAck(bobTab, 'chat:delivered', { messageIds: [other.id, randomUUID()] })).toEqual(notFound);
    // Malformed input.
    for (const bad of [{}, { messageIds: [] }, { messageIds: ['nope'] }, { messageIds: Array.from({ length: 101 }, () => randomUUID()) }]) {
      expect(await emitAck(bobTab, 'chat:delivered', bad)).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    }
    await quietPeriod();
    expect(pushes).toEqual([]);
    expect(await deliveredAtOf([toBob.id, other.id, system.id])).toEqual({ [toBob.id]: null, [other.id]: null, [system.id]: null });
  });

  it('in a group: a member’s first acknowledgement is stored and the members told; the sender and non-members are refused', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const outsider = await s.register();
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const [aliceTab, bobTab, carolTab, outsiderTab] = [await s.connect(alice!), await s.connect(bob!), await s.connect(carol!), await s.connect(outsider)];
    const m = await sendToGroup(s, alice!, group.id, 'hello all');

    const notFound = { ok: false, error: { code: 'NOT_FOUND', message: expect.any(String) } };
    expect(await emitAck(aliceTab, 'chat:delivered', { messageIds: [m.id] })).toEqual(notFound);
    expect(await emitAck(outsiderTab, 'chat:delivered', { messageIds: [m.id] })).toEqual(notFound);
    expect(await deliveredAtOf([m.id])).toEqual({ [m.id]: null });

    const toAlice = waitFor(aliceTab, 'chat:delivered');
    const toCarol = waitFor(carolTab, 'chat:delivered');
    const toBob = collect(bobTab, 'chat:delivered');
    const answer = await emitAck(bobTab, 'chat:delivered', { messageIds: [m.id] });
    const push = await toAlice;
    expect(push).toEqual({ by: bob!.id, messageIds: [m.id], deliveredAt: expect.any(String), groupId: group.id });
    expect(await toCarol).toEqual(push);
    expect(answer).toEqual({ ok: true, messageIds: [m.id], deliveredAt: push.deliveredAt });
    // Carol's acknowledgement comes second: accepted, nothing changes.
    const later = collect(aliceTab, 'chat:delivered');
    expect(await emitAck(carolTab, 'chat:delivered', { messageIds: [m.id] })).toEqual({ ok: true, messageIds: [], deliveredAt: null });
    await quietPeriod();
    expect(later).toEqual([]);
    expect(toBob).toEqual([]);
    expect(await deliveredAtOf([m.id])).toEqual({ [m.id]: push.deliveredAt });

    // A member who left no longer acknowledges.
    const m2 = await sendToGroup(s, alice!, group.id, 'after you left');
    expect((await s.request('DELETE', `/api/groups/${group.id}/members/${carol!.id}`, { token: carol!.token })).status).toBe(204);
    expect(await emitAck(carolTab, 'chat:delivered', { messageIds: [m2.id] })).toEqual(notFound);
    expect(await deliveredAtOf([m2.id])).toEqual({ [m2.id]: null });
  });
});
