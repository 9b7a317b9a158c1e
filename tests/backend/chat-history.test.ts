import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { firstMessageUnlocked, friendPair, sendOverHttp } from '../helpers/chat.ts';

type Row = { id: string; createdAt: string; fromUserId: string | null; toUserId: string | null };

/** Server order: time, ties by id (DESIGN.md, Rules); uuids compare like their lowercase text. */
const byTimeThenId = (a: Row, b: Row) => a.createdAt.localeCompare(b.createdAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

describe.each(dbTargets())('chat history on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  /** Inserts chat messages straight into the database, `times[i]` being the i-th createdAt. */
  async function insertAt(a: TestUser, b: TestUser, times: Date[]): Promise<void> {
    await s.app.db.prisma.message.createMany({
      data: times.map((createdAt, i) => ({
        fromUserId: i % 2 ? b.id : a.id,
        toUserId: i % 2 ? a.id : b.id,
        content: `m${i}`,
        createdAt,
      })),
    });
  }

  /** Pages GET /api/messages/:peer back to the start; answers the pages in the order fetched. */
  async function pageBack(me: TestUser, peer: TestUser, limit?: number) {
    const pages: { messages: Row[]; nextCursor: string | null }[] = [];
    let before: string | null = null;
    do {
      const q = new URLSearchParams();
      if (limit !== undefined) q.set('limit', String(limit));
      if (before) q.set('before', before);
      const r = await s.request('GET', `/api/messages/${peer.id}?${q}`, { token: me.token });
      expect(r.status).toBe(200);
      pages.push(r.body);
      before = r.body.nextCursor;
      expect(pages.length).toBeLessThan(100);
    } while (before !== null);
    return pages;
  }

  it('pages through messages that share one timestamp without gaps or repeats, oldest first within pages', async () => {
    const [alice, bob] = await friendPair(s);
    const t = Date.parse('2030-01-01T12:00:00.000Z');
    // 12 messages: 8 share one millisecond, the rest sit either side of it.
    const times = [t - 1000, t, t, t, t - 2000, t, t, t + 1000, t, t, t + 2000, t].map((ms) => new Date(ms));
    await insertAt(alice, bob, times);
    const all = (await s.app.db.prisma.message.findMany({ where: { fromUserId: { in: [alice.id, bob.id] }, messageType: 'CHAT' } }))
      .map((m) => ({ id: m.id, createdAt: m.createdAt.toISOString(), fromUserId: m.fromUserId, toUserId: m.toUserId }))
      .sort(byTimeThenId);
    expect(all).toHaveLength(12);

    for (const [me, peer] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const pages = await pageBack(me, peer, 3);
      // 12 = 4 full pages; the 4th must still say there is nothing older.
      expect(pages.map((p) => p.messages.length)).toEqual([3, 3, 3, 3]);
      expect(pages.at(-1)!.nextCursor).toBeNull();
      for (const p of pages) expect([...p.messages].sort(byTimeThenId)).toEqual(p.messages);
      const seen = pages.reverse().flatMap((p) => p.messages.map((m) => m.id));
      expect(seen).toEqual(all.map((m) => m.id));
    }

    const uneven = await pageBack(alice, bob, 5);
    expect(uneven.map((p) => p.messages.length)).toEqual([5, 5, 2]);
    expect(uneven.reverse().flatMap((p) => p.messages.map((m) => m.id))).toEqual(all.map((m) => m.id));
  });

  it('answers 50 messages by default and the rest on the next page', async () => {
    const [alice, bob] = await friendPair(s);
    const t = Date.parse('2030-02-01T00:00:00.000Z');
    await insertAt(alice, bob, Array.from({ length: 60 }, (_, i) => new Date(t + Math.floor(i / 7))));
    const pages = await pageBack(alice, bob);
    expect(pages.map((p) => p.messages.length)).toEqual([50, 10]);
    expect(new Set(pages.flatMap((p) => p.messages.map((m) => m.id))).size).toBe(60);
  });

  it('answers the newest page first, and an empty page with nextCursor null for no messages', async () => {
    const [alice, bob] = await friendPair(s);
    expect((await s.request('GET', `/api/messages/${bob.id}`, { token: alice.token })).body).toEqual({ messages: [], nextCursor: null });
    const first = await sendOverHttp(s, alice, bob.id, 'one');
    const second = await sendOverHttp(s, bob, alice.id, 'two');
    const third = await sendOverHttp(s, alice, bob.id, 'three');
    const r = await s.request('GET', `/api/messages/${bob.id}?limit=2`, { token: alice.token });
    expect(r.body.messages.map((m: Row) => m.id)).toEqual([second.id, third.id]);
    expect(typeof r.body.nextCursor).toBe('string');
    const older = await s.request('GET', `/api/messages/${bob.id}?limit=2&before=${encodeURIComponent(r.body.nextCursor)}`, {
      token: alice.token,
    });
    expect(older.body).toEqual({ messages: [first], nextCursor: null });
  });

  it.each([
    ['a limit over 100', '?limit=101'],
    ['a limit of 0', '?limit=0'],
    ['a fractional limit', '?limit=2.5'],
    ['a limit that is not a number', '?limit=ten'],
    ['a cursor that is not one', '?before=not-a-cursor'],
    ['an empty cursor', '?before='],
  ])('answers 400 VALIDATION for %s', async (_name, query) => {
    const [alice, bob] = await friendPair(s);
    const r = await s.request('GET', `/api/messages/${bob.id}${query}`, { token: alice.token });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
  });

  it('accepts a limit of 100', async () => {
    const [alice, bob] = await friendPair(s);
    const r = await s.request('GET', `/api/messages/${bob.id}?limit=100`, { token: alice.token });
    expect(r.status).toBe(200);
  });

  it('answers 400 for a malformed peer id and 404 for an unknown one', async () => {
    const alice = await s.register();
    const bad = await s.request('GET', `/api/messages/${'n'.repeat(65)}`, { token: alice.token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION');
    const unknown = await s.request('GET', '/api/messages/0b3e9a4c-1d2f-4e5a-8b6c-7d8e9f0a1b2c', { token: alice.token });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('NOT_FOUND');
  });

  it('shows a user only their own conversations: a third person reading alice’s history with bob sees none of it', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    await s.makeFriends(carol, alice);
    await sendOverHttp(s, alice, bob.id, 'private');
    const mine = await sendOverHttp(s, alice, carol.id, 'for carol');
    expect((await s.request('GET', `/api/messages/${bob.id}`, { token: carol.token })).body.messages).toEqual([]);
    expect((await s.request('GET', `/api/messages/${alice.id}`, { token: carol.token })).body.messages).toEqual([mine]);
  });

  it('requires a token', async () => {
    const [, bob] = await friendPair(s);
    const r = await s.request('GET', `/api/messages/${bob.id}`);
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe('UNAUTHORIZED');
  });
});

describe.each(dbTargets())('conversations and unread counts on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  it('lists conversations newest first, each with its peer, last message and unread count', async () => {
    const me = await s.register();
    const [bob, carol, dave] = [await s.register(), await s.register(), await s.register()];
    for (const u of [bob, carol, dave]) await s.makeFriends(me, u);

    await sendOverHttp(s, bob, me.id, 'bob 1');
    await sendOverHttp(s, carol, me.id, 'carol 1');
    await sendOverHttp(s, bob, me.id, 'bob 2');
    const toDave = await sendOverHttp(s, me, dave.id, 'me to dave'); // mine: nothing unread
    const lastFromBob = await sendOverHttp(s, bob, me.id, 'bob 3');

    const r = await s.request('GET', '/api/messages/conversations/list', { token: me.token });
    expect(r.status).toBe(200);
    const pub = ({ id, username, displayName, avatarUrl }: TestUser) => ({ id, username, displayName, avatarUrl });
    expect(r.body.conversations.map((c: { peer: { id: string } }) => c.peer.id)).toEqual([bob.id, dave.id, carol.id]);
    expect(r.body.conversations[0]).toEqual({ peer: pub(bob), lastMessage: lastFromBob, unread: 3, updatedAt: lastFromBob.createdAt, muted: false });
    expect(r.body.conversations[1]).toEqual({ peer: pub(dave), lastMessage: toDave, unread: 0, updatedAt: toDave.createdAt, muted: false });
    expect(r.body.conversations[2]).toMatchObject({ peer: pub(carol), unread: 1, lastMessage: { content: 'carol 1' } });
    // System messages (follows, friendships) are not conversations.
    expect(r.body.conversations).toHaveLength(3);
  });

  it('orders conversations whose last messages share a timestamp by id, newest first', async () => {
    const me = await s.register();
    const [bob, carol] = [await s.register(), await s.register()];
    const createdAt = new Date('2030-03-01T00:00:00.000Z');
    await s.app.db.prisma.message.createMany({
      data: [
        { fromUserId: bob.id, toUserId: me.id, content: 'b', createdAt },
        { fromUserId: carol.id, toUserId: me.id, content: 'c', createdAt },
      ],
    });
    const r = await s.request('GET', '/api/messages/conversations/list', { token: me.token });
    const ids = r.body.conversations.map((c: { lastMessage: Row }) => c.lastMessage.id);
    expect(ids).toEqual([...ids].sort().reverse());
  });

  it('counts unread as { total, byPeer, system } with total the sum of byPeer and system apart', async () => {
    const me = await s.register();
    const [bob, carol] = [await s.register(), await s.register()];
    await s.makeFriends(bob, me);
    await s.makeFriends(carol, me);
    // Sent first, as it unlocks an achievement (one more system message).
    await sendOverHttp(s, me, bob.id, 'mine do not count');
    await firstMessageUnlocked(s, me);
    const before = await s.request('GET', '/api/messages/unread/count', { token: me.token });
    expect(before.body).toEqual({ total: 0, byPeer: {}, byGroup: {}, system: expect.any(Number), muted: { users: [], groups: [] } });
    // Two friendships: bob and carol each followed me (SYSTEM_FOLLOW) and became my friend (SYSTEM_FRIEND).
    expect(before.body.system).toBeGreaterThanOrEqual(4);

    await sendOverHttp(s, bob, me.id, '1');
    await sendOverHttp(s, bob, me.id, '2');
    await sendOverHttp(s, carol, me.id, '3');
    const r = await s.request('GET', '/api/messages/unread/count', { token: me.token });
    expect(r.body).toEqual({ total: 3, byPeer: { [bob.id]: 2, [carol.id]: 1 }, byGroup: {}, system: before.body.system, muted: { users: [], groups: [] } });
    expect((await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body).toMatchObject({
      total: 1,
      byPeer: { [me.id]: 1 },
    });
  });
});
