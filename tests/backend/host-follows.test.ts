// Issue 2: the host app's people endpoints under bad input — follows, friends, user search.
// Every error answers `{ error: { code, message } }` and the server keeps serving after it.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PublicUser, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { waitFor } from '../helpers/wait.ts';

const pub = (u: TestUser): PublicUser => ({ id: u.id, username: u.username, displayName: u.displayName, avatarUrl: u.avatarUrl });

function expectError(r: { status: number; body: unknown }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
}

const MALFORMED_IDS = ['abc', '123', 'not-a-uuid', `${randomUUID()}0`, randomUUID().replaceAll('-', ''), '{00000000-0000-0000-0000-000000000000}'];
// Well-formed (what a PostgreSQL uuid column takes) but nobody's.
const UNKNOWN_IDS = [randomUUID(), randomUUID().toUpperCase(), '00000000-0000-0000-0000-000000000001', '11111111-1111-1111-1111-111111111111'];

describe.each(dbTargets())('host people endpoints on %s', (target) => {
  let s: TestServer;
  let watcher: TestUser;
  beforeAll(async () => {
    s = await startServer({ target });
    watcher = await s.register();
  });
  afterAll(async () => s.close());
  afterEach(async () => {
    // Whatever the test sent, the server still answers.
    expect((await s.request('GET', '/api/health')).status).toBe(200);
    expect((await s.request('GET', '/api/me', { token: watcher.token })).status).toBe(200);
  });

  const systemList = async (u: TestUser): Promise<WireMessage[]> =>
    (await s.request('GET', '/api/messages/system/list?limit=100', { token: u.token })).body.messages;
  const friendsOf = async (u: TestUser) => (await s.request('GET', '/api/friends', { token: u.token })).body.friends;

  describe('follows', () => {
    it('following yourself answers 400 VALIDATION and changes nothing', async () => {
      const me = await s.register();
      expectError(await s.request('POST', `/api/follows/${me.id}`, { token: me.token }), 400, 'VALIDATION');
      expect(await systemList(me)).toEqual([]);
      expect(await friendsOf(me)).toEqual([]);
    });

    it('following yourself by your id in capitals answers 400 too, and makes no self-friendship', async () => {
      const me = await s.register();
      expectError(await s.request('POST', `/api/follows/${me.id.toUpperCase()}`, { token: me.token }), 400, 'VALIDATION');
      expect(await systemList(me)).toEqual([]);
      expect(await friendsOf(me)).toEqual([]);
      expect((await s.request('GET', '/api/achievements', { token: me.token })).body.achievements).toEqual([]);
    });

    it.each(UNKNOWN_IDS)('following or unfollowing an unknown well-formed id %s answers 404 NOT_FOUND', async (id) => {
      const me = await s.register();
      expectError(await s.request('POST', `/api/follows/${id}`, { token: me.token }), 404, 'NOT_FOUND');
      expectError(await s.request('DELETE', `/api/follows/${id}`, { token: me.token }), 404, 'NOT_FOUND');
    });

    it.each(MALFORMED_IDS)('a malformed id %s answers 400 VALIDATION', async (id) => {
      const me = await s.register();
      expectError(await s.request('POST', `/api/follows/${encodeURIComponent(id)}`, { token: me.token }), 400, 'VALIDATION');
      expectError(await s.request('DELETE', `/api/follows/${encodeURIComponent(id)}`, { token: me.token }), 400, 'VALIDATION');
    });

    it('a well-formed id in capitals names the same user', async () => {
      const [a, b] = [await s.register(), await s.register()];
      const r = await s.request('POST', `/api/follows/${b.id.toUpperCase()}`, { token: a.token });
      expect(r).toEqual({ status: 201, body: { following: true, friends: false } });
      await s.follow(b, a);
      expect((await friendsOf(a)).map((f: { user: PublicUser }) => f.user)).toEqual([pub(b)]);
    });

    it('following twice is idempotent: 201 both times, one SYSTEM_FOLLOW', async () => {
      const [a, b] = [await s.register(), await s.register()];
      const first = await s.request('POST', `/api/follows/${b.id}`, { token: a.token });
      const second = await s.request('POST', `/api/follows/${b.id}`, { token: a.token });
      expect(first).toEqual({ status: 201, body: { following: true, friends: false } });
      expect(second).toEqual(first);
      expect((await systemList(b)).map((m) => m.messageType)).toEqual(['SYSTEM_FOLLOW']);
    });

    it('following a friend again still answers friends: true and announces nothing new', async () => {
      const [a, b] = [await s.register(), await s.register()];
      await s.makeFriends(a, b);
      const before = (await systemList(a)).length;
      expect(await s.request('POST', `/api/follows/${b.id}`, { token: a.token })).toEqual({ status: 201, body: { following: true, friends: true } });
      expect(await systemList(a)).toHaveLength(before);
    });

    it('unfollowing answers { following: false, friends: false } and ends the friendship on both sides', async () => {
      const [a, b] = [await s.register(), await s.register()];
      await s.makeFriends(a, b);
      expect(await friendsOf(a)).toHaveLength(1);
      const r = await s.request('DELETE', `/api/follows/${b.id}`, { token: a.token });
      expect(r).toEqual({ status: 200, body: { following: false, friends: false } });
      expect(await friendsOf(a)).toEqual([]);
      expect(await friendsOf(b)).toEqual([]);
      // b still follows a; a following back makes them friends again.
      expect((await s.request('POST', `/api/follows/${b.id}`, { token: a.token })).body).toEqual({ following: true, friends: true });
    });

    it('unfollowing someone you do not follow answers the same, and yourself answers 400', async () => {
      const [a, b] = [await s.register(), await s.register()];
      expect(await s.request('DELETE', `/api/follows/${b.id}`, { token: a.token })).toEqual({
        status: 200,
        body: { following: false, friends: false },
      });
      expectError(await s.request('DELETE', `/api/follows/${a.id}`, { token: a.token }), 400, 'VALIDATION');
    });

    it('requires a token', async () => {
      const b = await s.register();
      expectError(await s.request('POST', `/api/follows/${b.id}`), 401, 'UNAUTHORIZED');
      expectError(await s.request('GET', '/api/friends'), 401, 'UNAUTHORIZED');
      expectError(await s.request('GET', '/api/users'), 401, 'UNAUTHORIZED');
    });
  });

  describe('friends', () => {
    it('lists { user, online, lastSeenAt, unread } for mutual follows only', async () => {
      const [me, friend, fan, idol] = [await s.register(), await s.register(), await s.register(), await s.register()];
      await s.makeFriends(me, friend);
      await s.follow(fan, me);
      await s.follow(me, idol);
      expect(await s.request('GET', '/api/friends', { token: me.token })).toEqual({
        status: 200,
        body: { friends: [{ user: pub(friend), online: false, lastSeenAt: null, unread: 0 }] },
      });
    });

    it('shows presence, last seen and unread chat messages per friend', async () => {
      const [me, friend] = [await s.register(), await s.register()];
      await s.makeFriends(me, friend);
      const mySock = await s.connect(me);
      const cameOnline = waitFor(mySock, 'presence:update', 5000, (p: { userId: string; online: boolean }) => p.userId === friend.id && p.online);
      const friendSock = await s.connect(friend);
      await cameOnline;
      for (const content of ['one', 'two']) {
        expect((await s.request('POST', `/api/messages/${me.id}`, { token: friend.token, body: { content } })).status).toBe(201);
      }
      const [entry] = await friendsOf(me);
      expect(entry).toEqual({ user: pub(friend), online: true, lastSeenAt: expect.any(String), unread: 2 });
      expect(Number.isNaN(Date.parse(entry.lastSeenAt))).toBe(false);
      // System notifications are not chat: the friend, who got only system messages, sees 0.
      expect((await friendsOf(friend))[0]).toMatchObject({ user: pub(me), online: true, unread: 0 });

      const wentOffline = waitFor(mySock, 'presence:update', 5000, (p: { userId: string; online: boolean }) => p.userId === friend.id && !p.online);
      friendSock.disconnect();
      await wentOffline;
      expect((await friendsOf(me))[0]).toMatchObject({ online: false, lastSeenAt: expect.any(String) });
    });
  });

  describe('user search', () => {
    it('finds by username or display name, pages with a cursor, and never shows a password hash', async () => {
      const tag = `srch${randomBytes(3).toString('hex')}`;
      const users: TestUser[] = [];
      for (let i = 0; i < 5; i++) users.push(await s.register(`${tag}_${i}`));
      const byName = await s.request('POST', '/api/auth/register', {
        body: { username: `other${randomBytes(3).toString('hex')}`, password: 'password123', displayName: `Mr ${tag.toUpperCase()}` },
      });
      expect(byName.status).toBe(201);

      const seen: { id: string; username: string }[] = [];
      const sizes: number[] = [];
      let cursor: string | null = null;
      do {
        const r: { status: number; body: { users: { id: string; username: string }[]; nextCursor: string | null } } = await s.request(
          'GET',
          `/api/users?q=${tag}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          { token: watcher.token },
        );
        expect(r.status).toBe(200);
        expect(JSON.stringify(r.body)).not.toMatch(/passwordHash|\$2[aby]\$/);
        sizes.push(r.body.users.length);
        seen.push(...r.body.users);
        cursor = r.body.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([2, 2, 2]);
      expect(seen.map((u) => u.id).sort()).toEqual([...users.map((u) => u.id), byName.body.user.id].sort());
      for (const u of seen) {
        expect(u).toMatchObject({ id: expect.any(String), username: expect.any(String), displayName: expect.any(String), avatarUrl: null });
      }
    });

    it('treats % and _ in the query as plain characters', async () => {
      const tag = randomBytes(3).toString('hex');
      const percent = await s.request('POST', '/api/auth/register', {
        body: { username: `pct${tag}`, password: 'password123', displayName: '100% real' },
      });
      expect(percent.status).toBe(201);
      const r = await s.request('GET', `/api/users?q=${encodeURIComponent('%')}&limit=100`, { token: watcher.token });
      expect(r.status).toBe(200);
      expect(r.body.users.length).toBeGreaterThan(0);
      for (const u of r.body.users) expect(`${u.username} ${u.displayName}`).toContain('%');
      const under = await s.request('GET', `/api/users?q=${encodeURIComponent('_')}&limit=100`, { token: watcher.token });
      for (const u of under.body.users) expect(`${u.username} ${u.displayName}`).toContain('_');
      // The escape character itself is plain too.
      const slash = await s.request('POST', '/api/auth/register', {
        body: { username: `bsl${tag}`, password: 'password123', displayName: 'back\\slash' },
      });
      const back = await s.request('GET', `/api/users?q=${encodeURIComponent('\\')}&limit=100`, { token: watcher.token });
      expect(back.body.users.map((u: PublicUser) => u.id)).toEqual([slash.body.user.id]);
    });

    it.each([
      ['limit=0', '?limit=0'],
      ['limit=101', '?limit=101'],
      ['limit=ten', '?limit=ten'],
      ['a query of 65 characters', `?q=${'x'.repeat(65)}`],
      ['two queries', '?q=a&q=b'],
      ['a garbage cursor', '?cursor=%2F%2F%2F'],
    ])('answers 400 VALIDATION for %s', async (_name, query) => {
      expectError(await s.request('GET', `/api/users${query}`, { token: watcher.token }), 400, 'VALIDATION');
    });
  });
});
