// Issue 4: the notification center — the system list (newest first, cursor paging,
// unreadOnly), mark-read, delete, push failures and notifyMany.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnreadCounts, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, sleep, waitFor } from '../helpers/wait.ts';

describe.each(dbTargets())('notification center on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  async function list(u: TestUser, query = ''): Promise<{ messages: WireMessage[]; nextCursor: string | null }> {
    const r = await s.request('GET', `/api/messages/system/list${query}`, { token: u.token });
    expect(r.status).toBe(200);
    return r.body;
  }
  async function unread(u: TestUser): Promise<UnreadCounts> {
    return (await s.request('GET', '/api/messages/unread/count', { token: u.token })).body;
  }
  const markRead = (u: TestUser, body: unknown) => s.request('POST', '/api/messages/system/mark-read', { token: u.token, body });
  /**
   * Stores `n` task notifications for the user through the service, oldest first. Times are
   * kept in milliseconds, so each waits for the clock to move on: the order is then known.
   */
  async function seed(u: TestUser, n: number): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const start = Date.now();
      while (Date.now() < start + 2) await sleep(1);
      const m = await s.app.services.notifications.taskCompleted(u.id, { id: randomUUID(), title: `Task ${i}` }, i);
      ids.push(m.id);
    }
    return ids;
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const newestFirst = (a: WireMessage, b: WireMessage) => cmp(b.createdAt, a.createdAt) || cmp(b.id, a.id);

  describe('list', () => {
    it('answers newest first, and only system messages sent to me', async () => {
      const [me, friend] = [await s.register(), await s.register()];
      await s.makeFriends(me, friend); // system messages for both
      await s.request('POST', `/api/messages/${me.id}`, { token: friend.token, body: { content: 'a chat message' } });
      const ids = await seed(me, 3);
      const { messages, nextCursor } = await list(me);
      expect(nextCursor).toBeNull();
      expect(messages.every((m) => m.fromUserId === null && m.toUserId === me.id && m.messageType !== 'CHAT')).toBe(true);
      expect([...messages].sort(newestFirst)).toEqual(messages);
      // The three seeded last come first, the latest one on top.
      expect(messages.slice(0, 3).map((m) => m.id)).toEqual([...ids].reverse());
    });

    it('pages with an opaque cursor: no repeats, no gaps, null at the end', async () => {
      const me = await s.register();
      const ids = await seed(me, 7);
      const seen: WireMessage[] = [];
      let cursor: string | null = null;
      const sizes: number[] = [];
      do {
        const page: { messages: WireMessage[]; nextCursor: string | null } = await list(
          me,
          `?limit=3${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`,
        );
        sizes.push(page.messages.length);
        seen.push(...page.messages);
        cursor = page.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([3, 3, 1]);
      expect(seen.map((m) => m.id)).toEqual([...ids].reverse());
      expect([...seen].sort(newestFirst)).toEqual(seen);
    });

    it('also pages notifications stored in one batch (same timestamp), by id', async () => {
      const me = await s.register();
      const input = Array.from({ length: 5 }, (_, i) => s.app.services.notifications.build.achievementUnlocked(me.id, { code: `C${i}`, title: `T${i}` }));
      await s.app.services.notifications.notifyMany(input);
      const full = (await list(me)).messages;
      expect(full).toHaveLength(5);
      const paged: WireMessage[] = [];
      let cursor: string | null = null;
      do {
        const page: { messages: WireMessage[]; nextCursor: string | null } = await list(me, `?limit=2${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
        paged.push(...page.messages);
        cursor = page.nextCursor;
      } while (cursor);
      expect(paged).toEqual(full);
    });

    it('unreadOnly=true leaves out what was read, and pages the same way', async () => {
      const me = await s.register();
      const ids = await seed(me, 5);
      expect((await markRead(me, { ids: [ids[1], ids[3]] })).body).toEqual({ updated: 2 });
      const unreadOnly = await list(me, '?unreadOnly=true');
      expect(unreadOnly.messages.map((m) => m.id)).toEqual([ids[4], ids[2], ids[0]]);
      expect(unreadOnly.messages.every((m) => !m.isRead)).toBe(true);
      const first = await list(me, '?unreadOnly=true&limit=2');
      expect(first.messages.map((m) => m.id)).toEqual([ids[4], ids[2]]);
      const second = await list(me, `?unreadOnly=true&limit=2&before=${encodeURIComponent(first.nextCursor!)}`);
      expect(second).toEqual({ messages: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
      // Without the filter, all five are there and the read ones say so.
      const all = await list(me, '?unreadOnly=false');
      expect(all.messages.filter((m) => m.isRead).map((m) => m.id)).toEqual([ids[3], ids[1]]);
      expect(all.messages.find((m) => m.id === ids[3])!.readAt).toEqual(expect.any(String));
    });

    it.each([
      ['limit=0', '?limit=0'],
      ['limit=101', '?limit=101'],
      ['limit=abc', '?limit=abc'],
      ['a garbage cursor', '?before=not-a-cursor'],
      ['unreadOnly=maybe', '?unreadOnly=maybe'],
    ])('answers 400 VALIDATION for %s', async (_name, query) => {
      const me = await s.register();
      const r = await s.request('GET', `/api/messages/system/list${query}`, { token: me.token });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { code: 'VALIDATION', message: expect.any(String) } });
    });

    it('requires a token', async () => {
      const r = await s.request('GET', '/api/messages/system/list');
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
    });
  });

  describe('mark-read', () => {
    it('by ids: counts only what it changed, ignores other users\' ids and leaves those unread', async () => {
      const [me, other] = [await s.register(), await s.register()];
      const mine = await seed(me, 3);
      const theirs = await seed(other, 2);
      const r = await markRead(me, { ids: [mine[0], mine[1], theirs[0], randomUUID()] });
      expect(r).toEqual({ status: 200, body: { updated: 2 } });
      expect((await unread(me)).system).toBe(1);
      // Again: nothing changes, nothing counted.
      expect((await markRead(me, { ids: [mine[0], mine[1]] })).body).toEqual({ updated: 0 });
      // The other user's notification is still unread, for them.
      expect((await unread(other)).system).toBe(2);
      expect((await list(other)).messages.find((m) => m.id === theirs[0])!.isRead).toBe(false);
      // And they can still mark it themselves.
      expect((await markRead(other, { ids: [theirs[0]] })).body).toEqual({ updated: 1 });
    });

    it('all: marks every unread system message of mine, none of others\', and not my chat messages', async () => {
      const [me, other, friend] = [await s.register(), await s.register(), await s.register()];
      await s.makeFriends(me, friend);
      await s.request('POST', `/api/messages/${me.id}`, { token: friend.token, body: { content: 'unread chat' } });
      await seed(me, 3);
      await seed(other, 2);
      const before = await unread(me);
      expect(before.total).toBe(1);
      const sock = await s.connect(me);
      const pushed = waitFor<UnreadCounts>(sock, 'unread:update', 5000, (c) => c.system === 0);

      expect((await markRead(me, { all: true })).body).toEqual({ updated: before.system });
      expect(await pushed).toEqual({ total: 1, byPeer: { [friend.id]: 1 }, byGroup: {}, system: 0, muted: { users: [], groups: [] } });
      expect(await unread(me)).toEqual({ total: 1, byPeer: { [friend.id]: 1 }, byGroup: {}, system: 0, muted: { users: [], groups: [] } });
      expect((await list(me, '?unreadOnly=true')).messages).toEqual([]);
      expect((await unread(other)).system).toBe(2);
      expect((await markRead(me, { all: true })).body).toEqual({ updated: 0 });
    });

    it.each([
      ['an empty body', {}],
      ['ids not an array', { ids: 'x' }],
      ['a malformed id', { ids: ['not-a-uuid'] }],
      ['all: false', { all: false }],
      ['an extra field', { all: true, extra: 1 }],
    ])('answers 400 VALIDATION for %s', async (_name, body) => {
      const me = await s.register();
      const r = await markRead(me, body);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { code: 'VALIDATION', message: expect.any(String) } });
    });

    it('answers 400 VALIDATION for a malformed JSON body', async () => {
      const me = await s.register();
      const r = await s.request('POST', '/api/messages/system/mark-read', { token: me.token, raw: '{"all": tru' });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ error: { code: 'VALIDATION', message: expect.any(String) } });
    });
  });

  describe('delete', () => {
    it('another user cannot delete my notification: 404, and it stays', async () => {
      const [me, other] = [await s.register(), await s.register()];
      const [id] = await seed(me, 1);
      const r = await s.request('DELETE', `/api/messages/${id}`, { token: other.token });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
      expect((await list(me)).messages.map((m) => m.id)).toEqual([id]);
      expect((await unread(me)).system).toBe(1);
    });

    it('I can delete my own: 204, gone from the list and the counts, in sync without content; a second delete is 404', async () => {
      const me = await s.register();
      const [keep, gone] = await seed(me, 2);
      const sock = await s.connect(me);
      const deleted = waitFor(sock, 'chat:deleted');
      const counts = waitFor<UnreadCounts>(sock, 'unread:update', 5000, (c) => c.system === 1);

      const r = await s.request('DELETE', `/api/messages/${gone}`, { token: me.token });
      expect(r.status).toBe(204);
      expect((await list(me)).messages.map((m) => m.id)).toEqual([keep]);
      expect((await unread(me)).system).toBe(1);
      expect((await counts).system).toBe(1);
      expect(await deleted).toMatchObject({ messageId: gone });
      // Sync carries the deletion (last, as the latest change), without the content.
      const sync = await s.request('GET', '/api/messages/sync', { token: me.token });
      expect(sync.body.messages.map((m: WireMessage) => [m.id, m.deletedAt !== null, m.content === ''])).toEqual([
        [keep, false, false],
        [gone, true, true],
      ]);
      expect((await s.request('DELETE', `/api/messages/${gone}`, { token: me.token })).status).toBe(404);
    });

    it('answers 400 VALIDATION for a malformed id', async () => {
      const me = await s.register();
      const r = await s.request('DELETE', '/api/messages/123', { token: me.token });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
    });
  });

  describe('push failures', () => {
    it('a push that throws still leaves the notification stored and the action successful', async () => {
      const [seller, buyer] = [await s.register(), await s.register()];
      const work = (await s.request('POST', '/api/works', { token: seller.token, body: { title: 'Fragile', price: 9 } })).body.work;
      const original = s.app.bus.emit;
      s.app.bus.emit = () => {
        throw new Error('push failed');
      };
      try {
        const r = await s.request('POST', `/api/works/${work.id}/purchase`, { token: buyer.token });
        expect(r.status).toBe(201);
        expect(r.body.purchase).toMatchObject({ workId: work.id, buyerId: buyer.id, price: 9 });
        const follow = await s.request('POST', `/api/follows/${seller.id}`, { token: buyer.token });
        expect(follow.status).toBe(201);
      } finally {
        s.app.bus.emit = original;
      }
      const types = (await list(seller)).messages.map((m) => m.messageType).sort();
      expect(types).toEqual(['SYSTEM_ACHIEVEMENT', 'SYSTEM_FOLLOW', 'SYSTEM_PURCHASE']);
      expect((await unread(seller)).system).toBe(3);
      // The server keeps serving, pushes included.
      const sock = await s.connect(seller);
      const arrived = waitFor<{ message: WireMessage }>(sock, 'notification:new');
      await s.app.services.notifications.followed(seller.id, buyer);
      expect((await arrived).message.messageType).toBe('SYSTEM_FOLLOW');
    });

    it('a push failing for one user does not cost another user theirs', async () => {
      const [seller, buyer] = [await s.register(), await s.register()];
      const work = (await s.request('POST', '/api/works', { token: seller.token, body: { title: 'Shared fate', price: 1 } })).body.work;
      const sock = await s.connect(seller);
      const news = collect<{ message: WireMessage }>(sock, 'notification:new');
      // Purchase + FIRST_SALE: the seller's final count is 2.
      const counts = waitFor<UnreadCounts>(sock, 'unread:update', 5000, (c) => c.system === 2);
      const original = s.app.bus.emit;
      s.app.bus.emit = (userIds, ...rest) => {
        if ([userIds].flat().includes(buyer.id)) throw new Error('push to the buyer failed');
        original(userIds, ...rest);
      };
      try {
        expect((await s.request('POST', `/api/works/${work.id}/purchase`, { token: buyer.token })).status).toBe(201);
        await counts;
      } finally {
        s.app.bus.emit = original;
      }
      expect(news.map((n) => n.message.messageType).sort()).toEqual(['SYSTEM_ACHIEVEMENT', 'SYSTEM_PURCHASE']);
    });
  });

  describe('notifyMany', () => {
    it('stores one message for each user and pushes to the online ones', async () => {
      const [on1, on2, off] = [await s.register(), await s.register(), await s.register()];
      const friend = await s.register();
      const [s1, s2] = [await s.connect(on1), await s.connect(on2)];
      const waits = [s1, s2].map((sock) =>
        Promise.all([waitFor<{ message: WireMessage }>(sock, 'notification:new'), waitFor<UnreadCounts>(sock, 'unread:update')]),
      );
      const { notifications } = s.app.services;
      const stored = await notifications.notifyMany([on1, on2, off].map((u) => notifications.build.becameFriends(u.id, friend)));
      expect(stored).toHaveLength(3);

      for (const [i, u] of [on1, on2, off].entries()) {
        const { messages } = await list(u);
        expect(messages).toHaveLength(1);
        expect(messages[0]).toMatchObject({ toUserId: u.id, fromUserId: null, messageType: 'SYSTEM_FRIEND', metadata: { friend: { id: friend.id, username: friend.username, displayName: friend.displayName, avatarUrl: null } } });
        if (i < 2) {
          const [news, counts] = await waits[i]!;
          expect(news.message).toEqual(messages[0]);
          expect(counts).toEqual({ total: 0, byPeer: {}, byGroup: {}, system: 1, muted: { users: [], groups: [] } });
        }
      }
      expect(await notifications.notifyMany([])).toEqual([]);
    });
  });
});
