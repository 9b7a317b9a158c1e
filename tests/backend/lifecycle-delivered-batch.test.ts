// Delivered acks coalesced per node (backend/src/chat/delivered.ts): the acks of many sockets and
// users go to the database in one statement, each caller still answered for its own batch alone
// (with what it stored), and receipts pushed once per sender (or group) and acking socket per
// statement rather than per ack, to everyone concerned but that socket.
//
// The statements are counted on the module's database handle (its prepared statements). To make "arrive together" certain
// on a slow machine, the first statement is held a moment: every ack that arrives meanwhile must
// go in the next one (without coalescing each would be its own statement).
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../backend/src/db/database.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { collect, emitAck, sleep } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';
import { createDeliveredAcks } from '../../backend/src/chat/delivered.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';

const isDelivered = (text: string) => text.includes('INSERT INTO') && text.includes('"Delivery"');

describe.each(dbTargets())('coalesced delivered acks on %s', (target) => {
  let s: TestServer;
  let realSql: Database['prepared'];
  beforeAll(async () => {
    s = await startServer({ target });
    realSql = s.app.db.prepared;
  });
  afterEach(() => {
    s.app.db.prepared = realSql;
  });
  afterAll(async () => s.close());

  /**
   * Records the delivered statements (their user and id arrays); the first one is held `holdMs`
   * (or fails with `fail`), and `started` resolves when it is sent.
   */
  function watchStatements(opts: { holdMs?: number; fail?: Error } = {}) {
    const seen: { users: string[]; ids: string[] }[] = [];
    let markStarted!: () => void;
    const started = new Promise<void>((r) => (markStarted = r));
    s.app.db.prepared = (async (text: string, params?: unknown[]) => {
      if (isDelivered(text)) {
        seen.push({ users: params![1] as string[], ids: params![2] as string[] });
        if (seen.length === 1) {
          markStarted();
          if (opts.holdMs) await sleep(opts.holdMs);
          if (opts.fail) throw opts.fail;
        }
      }
      return realSql(text, params);
    }) as Database['prepared'];
    return { seen, started };
  }

  const deliveredAtOf = async (ids: string[]) => {
    const rows = await s.app.db.prisma.delivery.findMany({ where: { messageId: { in: ids } } });
    return Object.fromEntries(ids.map((id) => [id, rows.find((r) => r.messageId === id)?.deliveredAt.toISOString() ?? null]));
  };
  const notFound = { ok: false, error: { code: 'NOT_FOUND', message: expect.any(String) } };

  it('stores the acks of many users in few statements, each caller answered for its own batch only', async () => {
    const pairs = await Promise.all(Array.from({ length: 16 }, () => friendPair(s)));
    const [sender, receiver] = await friendPair(s);
    const stranger = await s.register();
    const msgs = await Promise.all(pairs.map(([a, b]) => sendOverHttp(s, a, b.id, 'hi')));
    const primer = await sendOverHttp(s, sender, receiver.id, 'first');
    const spoiled = await sendOverHttp(s, sender, receiver.id, 'in a refused batch');
    const senderTabs = await Promise.all(pairs.map(([a]) => s.connect(a)));
    const tabs = await Promise.all(pairs.map(([, b]) => s.connect(b)));
    const [senderTab, receiverTab, strangerTab] = [await s.connect(sender), await s.connect(receiver), await s.connect(stranger)];
    const pushes = senderTabs.map((t) => collect(t, 'chat:delivered'));
    const { seen, started } = watchStatements({ holdMs: 400 });

    const primed = emitAck(receiverTab, 'chat:delivered', { messageIds: [primer.id] });
    await started;
    // While the first statement is held, every user acks at once, and three callers are wrong:
    // an id that is not theirs spoils their own batch, no one else's.
    const [good, ownBatch, strangers, senders] = await Promise.all([
      Promise.all(tabs.map((t, i) => emitAck(t, 'chat:delivered', { messageIds: [msgs[i]!.id] }))),
      emitAck(receiverTab, 'chat:delivered', { messageIds: [spoiled.id, randomUUID()] }),
      emitAck(strangerTab, 'chat:delivered', { messageIds: [msgs[0]!.id] }),
      emitAck(senderTab, 'chat:delivered', { messageIds: [spoiled.id] }),
    ]);
    expect(await primed).toEqual({ ok: true, messageIds: [primer.id], deliveredAt: expect.any(String) });
    expect([ownBatch, strangers, senders]).toEqual([notFound, notFound, notFound]);

    // 20 acks: without coalescing, 20 statements. The refused callers shared a statement with
    // accepted ones.
    expect(seen.length).toBeLessThanOrEqual(3);
    const shared = seen.find((st) => st.users.includes(stranger.id));
    expect(shared?.users).toEqual(expect.arrayContaining([sender.id, receiver.id, pairs[0]![1].id, pairs[15]![1].id]));

    const stored = await deliveredAtOf([...msgs.map((m) => m.id), spoiled.id]);
    expect(stored[spoiled.id]).toBeNull();
    for (const m of msgs) expect(stored[m.id]).toEqual(expect.any(String));
    // Each caller's answer names what it stored, and when.
    expect(good).toEqual(msgs.map((m) => ({ ok: true, messageIds: [m.id], deliveredAt: stored[m.id] })));
    // Each sender is told once, with its receiver's id and the time stored.
    await quietPeriod();
    pushes.forEach((p, i) => expect(p).toEqual([{ by: pairs[i]![1].id, messageIds: [msgs[i]!.id], deliveredAt: stored[msgs[i]!.id] }]));
  });

  it('pushes one receipt per sender and acking socket (or group and acking socket) for everything a statement stored, to all but that socket', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    await s.makeFriends(bob!, carol!);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const direct = [await sendOverHttp(s, alice!, bob!.id, 'a1'), await sendOverHttp(s, alice!, bob!.id, 'a2'), await sendOverHttp(s, alice!, bob!.id, 'a3')];
    const toCarol = await sendOverHttp(s, alice!, carol!.id, 'c1');
    const inGroup = [await sendToGroup(s, alice!, group.id, 'g1'), await sendToGroup(s, alice!, group.id, 'g2'), await sendToGroup(s, alice!, group.id, 'g3')];
    const primer = await sendOverHttp(s, carol!, bob!.id, 'from carol');
    const aliceTab = await s.connect(alice!);
    const [bobTab, bobOther, carolTab] = [await s.connect(bob!), await s.connect(bob!), await s.connect(carol!)];
    const received = collect(aliceTab, 'chat:delivered');
    const [toBobTab, toBobOther, toCarolTab] = [collect(bobTab, 'chat:delivered'), collect(bobOther, 'chat:delivered'), collect(carolTab, 'chat:delivered')];
    const { seen, started } = watchStatements({ holdMs: 400 });

    const primed = emitAck(bobTab, 'chat:delivered', { messageIds: [primer.id] });
    await started;
    // Bob acks Alice's direct messages in three acks from two tabs, and two group messages;
    // Carol acks her direct message and the third group message.
    const acks = await Promise.all([
      emitAck(bobTab, 'chat:delivered', { messageIds: [direct[0]!.id] }),
      emitAck(bobOther, 'chat:delivered', { messageIds: [direct[1]!.id, inGroup[0]!.id] }),
      emitAck(bobTab, 'chat:delivered', { messageIds: [direct[2]!.id, inGroup[1]!.id] }),
      emitAck(carolTab, 'chat:delivered', { messageIds: [toCarol.id, inGroup[2]!.id] }),
    ]);
    expect(await primed).toEqual({ ok: true, messageIds: [primer.id], deliveredAt: expect.any(String) });
    expect(seen.length).toBe(2);
    await quietPeriod();

    const stored = await deliveredAtOf([...direct, toCarol, ...inGroup].map((m) => m.id));
    const at = stored[direct[0]!.id];
    expect(Object.values(stored)).toEqual(Object.values(stored).map(() => at));
    const sorted = (ids: string[]) => [...ids].sort();
    const answer = (ms: { id: string }[]) => ({ ok: true, messageIds: ms.map((m) => m.id), deliveredAt: at });
    expect(acks.map((a) => ({ ...a, messageIds: sorted((a as { messageIds: string[] }).messageIds) }))).toEqual([
      answer([direct[0]!]),
      { ...answer([direct[1]!, inGroup[0]!]), messageIds: sorted([direct[1]!.id, inGroup[0]!.id]) },
      { ...answer([direct[2]!, inGroup[1]!]), messageIds: sorted([direct[2]!.id, inGroup[1]!.id]) },
      { ...answer([toCarol, inGroup[2]!]), messageIds: sorted([toCarol.id, inGroup[2]!.id]) },
    ]);
    const norm = (ps: { messageIds: string[] }[]) => ps.map((p) => ({ ...p, messageIds: sorted(p.messageIds) }));
    const bobTabs = { direct: { by: bob!.id, deliveredAt: at }, group: { by: bob!.id, deliveredAt: at, groupId: group.id } };
    // Alice hears of everything: Bob's two tabs apart, each tab's acks of one statement together.
    expect(norm(received)).toHaveLength(6);
    expect(norm(received)).toEqual(
      expect.arrayContaining([
        { ...bobTabs.direct, messageIds: sorted([direct[0]!.id, direct[2]!.id]) },
        { ...bobTabs.direct, messageIds: [direct[1]!.id] },
        { by: carol!.id, messageIds: [toCarol.id], deliveredAt: at },
        { ...bobTabs.group, messageIds: [inGroup[1]!.id] },
        { ...bobTabs.group, messageIds: [inGroup[0]!.id] },
        { by: carol!.id, messageIds: [inGroup[2]!.id], deliveredAt: at, groupId: group.id },
      ]),
    );
    // A tab is not told what it acked (its answer said it), but hears of its other tab's acks and
    // of the group's other members' (and Bob's other tab and Carol of the primer, acked by bobTab).
    const primerReceipt = { by: bob!.id, messageIds: [primer.id], deliveredAt: expect.any(String) };
    expect(norm(toBobTab)).toHaveLength(3);
    expect(norm(toBobTab)).toEqual(
      expect.arrayContaining([
        { ...bobTabs.direct, messageIds: [direct[1]!.id] },
        { ...bobTabs.group, messageIds: [inGroup[0]!.id] },
        { by: carol!.id, messageIds: [inGroup[2]!.id], deliveredAt: at, groupId: group.id },
      ]),
    );
    expect(norm(toBobOther)).toHaveLength(4);
    expect(norm(toBobOther)).toEqual(
      expect.arrayContaining([
        primerReceipt,
        { ...bobTabs.direct, messageIds: sorted([direct[0]!.id, direct[2]!.id]) },
        { ...bobTabs.group, messageIds: [inGroup[1]!.id] },
        { by: carol!.id, messageIds: [inGroup[2]!.id], deliveredAt: at, groupId: group.id },
      ]),
    );
    expect(norm(toCarolTab)).toHaveLength(3);
    expect(norm(toCarolTab)).toEqual(expect.arrayContaining([primerReceipt, { ...bobTabs.group, messageIds: [inGroup[1]!.id] }, { ...bobTabs.group, messageIds: [inGroup[0]!.id] }]));
  });

  it('answers every caller of a failed statement with an error, stores nothing of it, and keeps serving', async () => {
    const [alice, bob] = await friendPair(s);
    const [carol, dave] = await friendPair(s);
    const m1 = await sendOverHttp(s, alice, bob.id, 'one');
    const m2 = await sendOverHttp(s, carol, dave.id, 'two');
    const [bobTab, daveTab] = [await s.connect(bob), await s.connect(dave)];
    const { seen, started } = watchStatements({ holdMs: 200, fail: new Error('boom') });
    const first = emitAck(bobTab, 'chat:delivered', { messageIds: [m1.id] });
    await started;
    const second = emitAck(daveTab, 'chat:delivered', { messageIds: [m2.id] });
    const internal = { ok: false, error: { code: 'INTERNAL', message: expect.any(String) } };
    expect(await first).toEqual(internal);
    // The second went in the next statement, which works.
    expect(await second).toEqual({ ok: true, messageIds: [m2.id], deliveredAt: expect.any(String) });
    expect(seen.length).toBe(2);
    expect(await deliveredAtOf([m1.id, m2.id])).toEqual({ [m1.id]: null, [m2.id]: expect.any(String) });
    // Asked again, the first is stored.
    expect(await emitAck(bobTab, 'chat:delivered', { messageIds: [m1.id] })).toEqual({ ok: true, messageIds: [m1.id], deliveredAt: expect.any(String) });
    expect((await deliveredAtOf([m1.id]))[m1.id]).toEqual(expect.any(String));
  });

  it('stores and answers what is queued when the node closes, without waiting for the window, and refuses acks after that', async () => {
    const [alice, bob] = await friendPair(s);
    const m = await sendOverHttp(s, alice, bob.id, 'just before the node stops');
    const pushed: unknown[] = [];
    const bus = { emit: (_to: unknown, _event: unknown, payload: unknown) => pushed.push(payload) } as unknown as Bus;
    // A window far longer than the test: only close() can store it.
    const acks = createDeliveredAcks(s.app.db, bus, { windowMs: 60_000 });
    const queued = acks.ack(bob.id, [m.id], 'socket-1');
    await sleep(50);
    expect((await deliveredAtOf([m.id]))[m.id]).toBeNull();
    await acks.close();
    const at = (await deliveredAtOf([m.id]))[m.id];
    expect(at).toEqual(expect.any(String));
    expect(await queued).toEqual({ messageIds: [m.id], deliveredAt: at });
    expect(pushed).toEqual([{ by: bob.id, messageIds: [m.id], deliveredAt: at }]);
    await expect(acks.ack(bob.id, [m.id])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // Closing again, with nothing queued, is done at once.
    await acks.close();
  });
});
