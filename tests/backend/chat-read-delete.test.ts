import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConversationEntry, FriendEntry, UnreadCounts, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp, sendOverSocket } from '../helpers/chat.ts';

const UNKNOWN_ID = '3d5e7f90-1a2b-4c3d-8e4f-5a6b7c8d9e0f';

describe.each(dbTargets())('unread counts and read receipts on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const unreadOf = async (u: TestUser) => (await s.request('GET', '/api/messages/unread/count', { token: u.token })).body;

  it('pushes unread:update to every tab of the recipient after a message', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTabs = [await s.connect(bob), await s.connect(bob)];
    const updates = bobTabs.map((t) => waitFor(t, 'unread:update'));
    await sendOverHttp(s, alice, bob.id, 'hello');
    for (const u of await Promise.all(updates)) {
      expect(u).toEqual({ total: 1, byPeer: { [alice.id]: 1 }, byGroup: {}, system: expect.any(Number), muted: { users: [], groups: [] } });
    }
    expect(await unreadOf(bob)).toEqual(await updates[0]);
  });

  /** Alice sends bob three messages; bob also sent alice one. Answers once bob's tabs know of 3 unread. */
  async function threeUnread(alice: TestUser, bob: TestUser, bobTabs: ClientSocket[]) {
    const seen = bobTabs.map((t) => waitFor(t, 'unread:update', 5000, (u: UnreadCounts) => u.total === 3));
    const fromBob = await sendOverHttp(s, bob, alice.id, 'bob first');
    const sent = [];
    for (const text of ['one', 'two', 'three']) sent.push(await sendOverHttp(s, alice, bob.id, text));
    await Promise.all(seen);
    return { sent, fromBob };
  }

  it('marks read over the socket: receipt to the sender’s tabs and the reader’s other tab, unread 0 everywhere', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTabs = [await s.connect(alice), await s.connect(alice)];
    const [reader, otherTab] = [await s.connect(bob), await s.connect(bob)];
    const { sent } = await threeUnread(alice, bob, [reader, otherTab]);

    const receipts = [...aliceTabs, otherTab].map((t) => waitFor(t, 'chat:read'));
    const readerReceipts = collect(reader, 'chat:read');
    const zeroed = [reader, otherTab].map((t) => waitFor(t, 'unread:update', 5000, (u: UnreadCounts) => u.total === 0));
    const ack = await emitAck(reader, 'chat:read', { peerId: alice.id });
    expect(ack).toEqual({ ok: true, updated: 3 });
    // The server emits before it acks, on the same connection: anything for `reader` is here by now.
    expect(readerReceipts).toEqual([]);

    const got = await Promise.all(receipts);
    expect(got[0]).toEqual({ by: bob.id, peerId: alice.id, readAt: expect.any(String) });
    for (const r of got) expect(r).toEqual(got[0]);
    for (const u of await Promise.all(zeroed)) expect(u).toEqual({ total: 0, byPeer: {}, byGroup: {}, system: expect.any(Number), muted: { users: [], groups: [] } });

    // Everywhere: counts, conversations, friends list, and both sides' history.
    expect(await unreadOf(bob)).toMatchObject({ total: 0, byPeer: {} });
    const convs = await s.request('GET', '/api/messages/conversations/list', { token: bob.token });
    expect(convs.body.conversations.find((c: ConversationEntry) => c.peer.id === alice.id).unread).toBe(0);
    const friends = await s.request('GET', '/api/friends', { token: bob.token });
    expect(friends.body.friends.find((f: FriendEntry) => f.user.id === alice.id).unread).toBe(0);
    for (const [me, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const h = await s.request('GET', `/api/messages/${peer.id}`, { token: me.token });
      const mine = h.body.messages.filter((m: WireMessage) => sent.some((x) => x.id === m.id));
      expect(mine).toHaveLength(3);
      for (const m of mine) expect(m).toMatchObject({ isRead: true, readAt: got[0]!.readAt });
    }
  });

  it('marks only what the peer sent: the reader’s own messages stay unread for the peer', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTab = await s.connect(bob);
    const { fromBob } = await threeUnread(alice, bob, [bobTab]);
    await emitAck(bobTab, 'chat:read', { peerId: alice.id });
    expect(await unreadOf(alice)).toMatchObject({ total: 1, byPeer: { [bob.id]: 1 } });
    const h = await s.request('GET', `/api/messages/${bob.id}`, { token: alice.token });
    expect(h.body.messages.find((m: WireMessage) => m.id === fromBob.id)).toMatchObject({ isRead: false, readAt: null });
  });

  it('marks read over HTTP: receipt to the sender and to every tab of the reader', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const bobTabs = [await s.connect(bob), await s.connect(bob)];
    await threeUnread(alice, bob, bobTabs);
    const receipts = [aliceTab, ...bobTabs].map((t) => waitFor(t, 'chat:read'));
    const zeroed = bobTabs.map((t) => waitFor(t, 'unread:update', 5000, (u: UnreadCounts) => u.total === 0));

    const r = await s.request('POST', `/api/messages/${alice.id}/read`, { token: bob.token });
    expect(r).toEqual({ status: 200, body: { updated: 3 } });
    for (const p of await Promise.all(receipts)) expect(p).toEqual({ by: bob.id, peerId: alice.id, readAt: expect.any(String) });
    await Promise.all(zeroed);
    expect(await unreadOf(bob)).toMatchObject({ total: 0, byPeer: {} });
  });

  it('sends no receipt when nothing was unread', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const bobTab = await s.connect(bob);
    await threeUnread(alice, bob, [bobTab]);
    const receipts = collect(aliceTab, 'chat:read');
    expect(await emitAck(bobTab, 'chat:read', { peerId: alice.id })).toEqual({ ok: true, updated: 3 });
    expect(await emitAck(bobTab, 'chat:read', { peerId: alice.id })).toEqual({ ok: true, updated: 0 });
    expect((await s.request('POST', `/api/messages/${alice.id}/read`, { token: bob.token })).body).toEqual({ updated: 0 });
    // A later push to alice proves ordering; only the first read produced a receipt.
    const later = waitFor(aliceTab, 'chat:message');
    await sendOverHttp(s, bob, alice.id, 'later');
    await later;
    await quietPeriod();
    expect(receipts).toHaveLength(1);
  });

  it('answers NOT_FOUND for an unknown peer and VALIDATION for a malformed one', async () => {
    const bob = await s.register();
    const tab = await s.connect(bob);
    expect((await emitAck(tab, 'chat:read', { peerId: UNKNOWN_ID })).error.code).toBe('NOT_FOUND');
    expect((await emitAck(tab, 'chat:read', { peerId: 'a'.repeat(65) })).error.code).toBe('VALIDATION');
    expect((await s.request('POST', `/api/messages/${UNKNOWN_ID}/read`, { token: bob.token })).status).toBe(404);
    const bad = await s.request('POST', `/api/messages/${'a'.repeat(65)}/read`, { token: bob.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
  });
});

describe.each(dbTargets())('deleting messages on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const ids = (messages: { id: string }[]) => messages.map((m) => m.id);
  const historyIds = async (me: TestUser, peer: TestUser) =>
    ids((await s.request('GET', `/api/messages/${peer.id}`, { token: me.token })).body.messages);

  it('lets the sender recall a message: 204, chat:deleted to every tab of both sides, gone from history and counts, in sync without content', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTabs = [await s.connect(alice), await s.connect(alice)];
    const bobTabs = [await s.connect(bob), await s.connect(bob)];
    const kept = await sendOverHttp(s, alice, bob.id, 'kept');
    const twoUnread = Promise.all(bobTabs.map((t) => waitFor(t, 'unread:update', 5000, (u: UnreadCounts) => u.total === 2)));
    const recalled = (await sendOverSocket(aliceTabs[0]!, bob.id, 'oops')).message;
    await twoUnread;

    const toAlice = aliceTabs.map((t) => waitFor(t, 'chat:deleted'));
    const toBob = bobTabs.map((t) => waitFor(t, 'chat:deleted'));
    const recount = waitFor(bobTabs[1]!, 'unread:update');
    const r = await s.request('DELETE', `/api/messages/${recalled.id}`, { token: alice.token });
    expect(r).toEqual({ status: 204, body: null });
    for (const p of await Promise.all(toAlice)) expect(p).toEqual({ messageId: recalled.id, peerId: bob.id, deletedAt: expect.any(String) });
    for (const p of await Promise.all(toBob)) expect(p).toEqual({ messageId: recalled.id, peerId: alice.id, deletedAt: expect.any(String) });
    expect(await recount).toMatchObject({ total: 1, byPeer: { [alice.id]: 1 } });

    expect(await historyIds(alice, bob)).toEqual([kept.id]);
    expect(await historyIds(bob, alice)).toEqual([kept.id]);
    expect((await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body).toMatchObject({ total: 1 });
    const convs = await s.request('GET', '/api/messages/conversations/list', { token: bob.token });
    expect(convs.body.conversations).toEqual([expect.objectContaining({ lastMessage: kept, unread: 1 })]);
    const sync = await emitAck(bobTabs[0]!, 'chat:sync', { limit: 100 });
    expect(ids(sync.messages)).toContain(kept.id);
    // Sync carries the recall (DESIGN.md, "Message lifecycle"): the message, without its content.
    const shown = sync.messages.find((m: { id: string }) => m.id === recalled.id);
    expect(shown).toMatchObject({ id: recalled.id, content: '', deletedAt: expect.any(String) });
    // Reading afterwards counts only what is left.
    expect(await emitAck(bobTabs[0]!, 'chat:read', { peerId: alice.id })).toEqual({ ok: true, updated: 1 });
    // Recalled once: a second delete finds nothing.
    expect((await s.request('DELETE', `/api/messages/${recalled.id}`, { token: alice.token })).status).toBe(404);
  });

  it('answers 404 to a stranger and keeps the message, telling nobody', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    const aliceTab = await s.connect(alice);
    const deletions = collect(aliceTab, 'chat:deleted');
    const m = await sendOverHttp(s, alice, bob.id, 'ours');
    const r = await s.request('DELETE', `/api/messages/${m.id}`, { token: carol.token });
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NOT_FOUND');
    expect(await historyIds(alice, bob)).toEqual([m.id]);
    expect(await historyIds(bob, alice)).toEqual([m.id]);
    await quietPeriod();
    expect(deletions).toEqual([]);
  });

  it('answers 403 FORBIDDEN to the recipient and keeps the message', async () => {
    const [alice, bob] = await friendPair(s);
    const m = await sendOverHttp(s, alice, bob.id, 'mine to recall, not yours');
    const r = await s.request('DELETE', `/api/messages/${m.id}`, { token: bob.token });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('FORBIDDEN');
    expect(await historyIds(bob, alice)).toEqual([m.id]);
    expect((await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body).toMatchObject({ total: 1 });
  });

  it('answers 400 for a malformed id and 404 for an unknown one', async () => {
    const alice = await s.register();
    const bad = await s.request('DELETE', '/api/messages/123', { token: alice.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    expect((await s.request('DELETE', `/api/messages/${UNKNOWN_ID}`, { token: alice.token })).status).toBe(404);
  });

  it('lets a user delete a system message sent to them, and nobody else', async () => {
    const [alice, bob] = await friendPair(s);
    const bobTab = await s.connect(bob);
    const list = await s.request('GET', '/api/messages/system/list', { token: bob.token });
    const follow = list.body.messages.find((m: WireMessage) => m.messageType === 'SYSTEM_FOLLOW');
    expect(follow).toBeDefined();
    const before = (await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body.system;

    expect((await s.request('DELETE', `/api/messages/${follow.id}`, { token: alice.token })).status).toBe(404);
    const deleted = waitFor(bobTab, 'chat:deleted');
    const recount = waitFor(bobTab, 'unread:update');
    expect((await s.request('DELETE', `/api/messages/${follow.id}`, { token: bob.token })).status).toBe(204);
    expect(await deleted).toEqual({ messageId: follow.id, peerId: 'system', deletedAt: expect.any(String) });
    expect((await recount).system).toBe(before - 1);
    const after = await s.request('GET', '/api/messages/system/list', { token: bob.token });
    expect(ids(after.body.messages)).not.toContain(follow.id);
    // Sync carries the deletion, without the content.
    const sync = await emitAck(bobTab, 'chat:sync', {});
    expect(sync.messages.find((m: WireMessage) => m.id === follow.id)).toMatchObject({ content: '', deletedAt: expect.any(String) });
  });
});
