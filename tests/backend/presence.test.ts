import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FriendEntry } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, serverSeesTabs, waitUntil } from '../helpers/chat.ts';

type Presence = { userId: string; online: boolean; lastSeenAt: string | null };

describe.each(dbTargets())('presence on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const friendEntry = async (me: TestUser, friend: TestUser) =>
    (await s.request('GET', '/api/friends', { token: me.token })).body.friends.find((f: FriendEntry) => f.user.id === friend.id) as FriendEntry;

  it('keeps a user online while any tab is open, and tells friends only on a change', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTab = await s.connect(bob);
    const updates = collect(bobTab, 'presence:update');

    const online = waitFor(bobTab, 'presence:update');
    const tab1 = await s.connect(alice);
    expect(await online).toEqual({ userId: alice.id, online: true, lastSeenAt: expect.any(String) });
    const tab2 = await s.connect(alice);
    await serverSeesTabs(s, alice.id, 2);
    expect(await emitAck(bobTab, 'presence:list', {})).toEqual({ ok: true, online: [alice.id] });

    tab1.disconnect();
    await serverSeesTabs(s, alice.id, 1);
    await quietPeriod();
    expect(updates).toHaveLength(1); // neither the second tab nor closing the first one changed anything
    expect(await emitAck(bobTab, 'presence:list', {})).toEqual({ ok: true, online: [alice.id] });
    expect((await friendEntry(bob, alice)).online).toBe(true);

    const offline = waitFor(bobTab, 'presence:update', 5000, (p: Presence) => !p.online);
    tab2.disconnect();
    const last = await offline;
    expect(last).toEqual({ userId: alice.id, online: false, lastSeenAt: expect.any(String) });
    expect(Date.parse(last.lastSeenAt!)).toBeGreaterThanOrEqual(Date.parse(updates[0].lastSeenAt));
    expect(updates).toHaveLength(2);
    expect(await emitAck(bobTab, 'presence:list', {})).toEqual({ ok: true, online: [] });
    // lastSeenAt is stored: the friends list shows it.
    expect(await friendEntry(bob, alice)).toMatchObject({ online: false, lastSeenAt: last.lastSeenAt });
  });

  it('leaves friends with the right state after tabs that open and close at once', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTab = await s.connect(bob);
    const updates = collect(bobTab, 'presence:update');
    for (let i = 0; i < 6; i++) {
      const tab = await s.connect(alice);
      tab.disconnect();
    }
    await serverSeesTabs(s, alice.id, 0);
    // Every change is announced in order, so the last word is "offline".
    await waitUntil(() => updates.length > 0 && updates.at(-1).online === false, 5000, 'an offline update last');
    await quietPeriod();
    expect(updates.at(-1)).toMatchObject({ userId: alice.id, online: false });
    expect(updates.map((u) => u.online)).toEqual(updates.map((_, i) => i % 2 === 0));
    expect(await emitAck(bobTab, 'presence:list', {})).toEqual({ ok: true, online: [] });
    expect(await friendEntry(bob, alice)).toMatchObject({ online: false, lastSeenAt: updates.at(-1).lastSeenAt });
  });

  it('tells friends, and only friends, when someone comes online', async () => {
    const [alice, bob] = await friendPair(s);
    const follower = await s.register(); // follows alice, not followed back
    await s.follow(follower, alice);
    const bobTab = await s.connect(bob);
    const followerTab = await s.connect(follower);
    const followerSaw = collect(followerTab, 'presence:update');
    const bobSaw = waitFor(bobTab, 'presence:update', 5000, (p: Presence) => p.userId === alice.id);
    await s.connect(alice);
    await bobSaw;
    await quietPeriod();
    expect(followerSaw).toEqual([]);
  });

  it('lists online friends only, not online strangers or offline friends', async () => {
    const me = await s.register();
    const [onlineFriend, offlineFriend, stranger] = [await s.register(), await s.register(), await s.register()];
    await s.makeFriends(me, onlineFriend);
    await s.makeFriends(me, offlineFriend);
    await s.connect(onlineFriend);
    await s.connect(stranger);
    const myTab = await s.connect(me);
    expect(await emitAck(myTab, 'presence:list', {})).toEqual({ ok: true, online: [onlineFriend.id] });
    const entries = (await s.request('GET', '/api/friends', { token: me.token })).body.friends;
    expect(Object.fromEntries(entries.map((f: FriendEntry) => [f.user.id, f.online]))).toEqual({ [onlineFriend.id]: true, [offlineFriend.id]: false });
  });

  it('shows a friend who was never online with lastSeenAt null', async () => {
    const [alice, bob] = await friendPair(s);
    expect(await friendEntry(alice, bob)).toMatchObject({ online: false, lastSeenAt: null });
  });
});

describe.each(dbTargets())('typing indicators on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  it('relays typing to every tab of the friend, on and off', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const bobTabs = [await s.connect(bob), await s.connect(bob)];
    const on = bobTabs.map((t) => waitFor(t, 'chat:typing'));
    expect(await emitAck(aliceTab, 'chat:typing', { to: bob.id, typing: true })).toEqual({ ok: true });
    for (const p of await Promise.all(on)) expect(p).toEqual({ from: alice.id, typing: true });
    const off = waitFor(bobTabs[0]!, 'chat:typing');
    aliceTab.emit('chat:typing', { to: bob.id, typing: false }); // clients send it without an ack
    expect(await off).toEqual({ from: alice.id, typing: false });
  });

  it('drops typing towards someone who is not a friend, including after an unfollow', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    await s.follow(alice, carol); // one-way
    const aliceTab = await s.connect(alice);
    const carolTab = await s.connect(carol);
    const bobTab = await s.connect(bob);
    const carolSaw = collect(carolTab, 'chat:typing');
    const bobSaw = collect(bobTab, 'chat:typing');

    // The ack comes after the server decided, so a relay would already be on its way.
    expect(await emitAck(aliceTab, 'chat:typing', { to: carol.id, typing: true })).toEqual({ ok: true });
    await s.request('DELETE', `/api/follows/${alice.id}`, { token: bob.token });
    expect(await emitAck(aliceTab, 'chat:typing', { to: bob.id, typing: true })).toEqual({ ok: true });
    await quietPeriod();
    expect(carolSaw).toEqual([]);
    expect(bobSaw).toEqual([]);
  });

  it('never echoes typing to the typist’s own tabs', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const aliceOther = await s.connect(alice);
    const bobTab = await s.connect(bob);
    const echoed = collect(aliceOther, 'chat:typing');
    const relayed = waitFor(bobTab, 'chat:typing');
    await emitAck(aliceTab, 'chat:typing', { to: bob.id, typing: true });
    await relayed;
    await quietPeriod();
    expect(echoed).toEqual([]);
  });
});
