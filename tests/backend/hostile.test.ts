// Issue 6: hostile input. Oversized and flooding sockets, prototype-pollution payloads,
// SQL-looking text, forged tokens, and users reaching for what is not theirs. After every
// test the server still answers /api/health, and Object.prototype is untouched.
import jwt from 'jsonwebtoken';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { UnreadCounts, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp, sendOverSocket, waitUntil } from '../helpers/chat.ts';

const SECRET = 'test-secret-test-secret-0123456789'; // startServer's
const POLLUTION_KEYS = ['polluted', 'isAdmin', 'all', 'admin'];

function expectPrototypeClean() {
  const probe: Record<string, unknown> = {};
  for (const k of POLLUTION_KEYS) {
    expect(probe[k]).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, k)).toBe(false);
  }
}

/** Emits anything, bypassing the typed event map. */
const emitRaw = (socket: ClientSocket, event: string, ...args: unknown[]) => (socket.emit as (e: string, ...a: unknown[]) => void)(event, ...args);
const disconnected = (socket: ClientSocket) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

describe.each(dbTargets())('hostile input on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let carol: TestUser; // mallory's friend
  let aliceToBob: WireMessage;
  let bobToAlice: WireMessage;

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob] = await friendPair(s);
    [mallory, carol] = await friendPair(s);
    aliceToBob = await sendOverHttp(s, alice, bob.id, 'private to bob');
    bobToAlice = await sendOverHttp(s, bob, alice.id, 'private to alice');
    await sendOverHttp(s, mallory, carol.id, 'mallory to carol');
  });
  afterAll(async () => s.close());
  afterEach(async () => {
    expect((await s.request('GET', '/api/health')).body).toMatchObject({ ok: true });
    expectPrototypeClean();
  });

  /** Alice and bob still chat both ways, live. */
  async function othersStillChat() {
    const aliceTab = await s.connect(alice);
    const bobTab = await s.connect(bob);
    const toBob = waitFor<{ message: WireMessage }>(bobTab, 'chat:message');
    const ack = await sendOverSocket(aliceTab, bob.id, 'still fine?');
    expect((await toBob).message.id).toBe(ack.message.id);
    const toAlice = waitFor<{ message: WireMessage }>(aliceTab, 'chat:message');
    const back = await sendOverSocket(bobTab, alice.id, 'still fine');
    expect((await toAlice).message.id).toBe(back.message.id);
    aliceTab.disconnect();
    bobTab.disconnect();
  }

  describe('oversized and flooding sockets', () => {
    it('disconnects the socket that sends a packet over 64 KB, and only it', async () => {
      const offender = await s.connect(mallory);
      const sameUserOtherTab = await s.connect(mallory);
      const carolTab = await s.connect(carol);
      const cut = disconnected(offender);
      const stayed = collect(sameUserOtherTab, 'disconnect');
      emitRaw(offender, 'chat:send', { to: carol.id, content: 'x'.repeat(100_000), clientId: randomUUID() }, () => {});
      await cut;
      // Mallory's other tab is untouched and still delivers.
      const got = waitFor<{ message: WireMessage }>(carolTab, 'chat:message');
      expect((await sendOverSocket(sameUserOtherTab, carol.id, 'other tab')).ok).toBe(true);
      expect((await got).message.content).toBe('other tab');
      expect(stayed).toEqual([]);
      await othersStillChat();
    });

    it('disconnects a socket that sends an oversized binary attachment', async () => {
      const offender = await s.connect(mallory);
      const cut = disconnected(offender);
      emitRaw(offender, 'chat:typing', { to: carol.id, typing: true, blob: Buffer.alloc(100_000) });
      await cut;
      await othersStillChat();
    });

    it('answers a large packet under the limit with VALIDATION and keeps the socket', async () => {
      const tab = await s.connect(mallory);
      const ack = await emitAck(tab, 'chat:send', { to: carol.id, content: 'x'.repeat(60_000), clientId: randomUUID() });
      expect(ack).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
      expect(tab.connected).toBe(true);
    });

    it('disconnects a socket that floods events, and only it', async () => {
      const flooder = await s.connect(mallory);
      const sameUserOtherTab = await s.connect(mallory);
      const carolTab = await s.connect(carol);
      const cut = disconnected(flooder);
      for (let i = 0; i < 400; i++) emitRaw(flooder, 'chat:typing', { to: carol.id, typing: i % 2 === 0 });
      await cut;
      await waitUntil(async () => (await s.app.io.in(mallory.id).fetchSockets()).every((x) => x.id !== flooder.id));
      expect(sameUserOtherTab.connected).toBe(true);
      const got = waitFor<{ message: WireMessage }>(carolTab, 'chat:message');
      expect((await sendOverSocket(sameUserOtherTab, carol.id, 'after the flood')).ok).toBe(true);
      expect((await got).message.content).toBe('after the flood');
      await othersStillChat();
    });

    it('lets a busy but human burst through (90 events at once)', async () => {
      const tab = await s.connect(mallory);
      for (let i = 0; i < 90; i++) emitRaw(tab, 'chat:typing', { to: carol.id, typing: i % 2 === 0 });
      expect(await emitAck(tab, 'presence:list', {})).toMatchObject({ ok: true });
      expect(tab.connected).toBe(true);
    });
  });

  describe('prototype pollution', () => {
    const bodies = (extra: string): [string, string][] => [
      ['__proto__', `{${extra}"__proto__":{"polluted":true,"isAdmin":true,"all":true}}`],
      ['constructor.prototype', `{${extra}"constructor":{"prototype":{"polluted":true,"isAdmin":true}}}`],
      ['nested __proto__', `{${extra}"x":{"__proto__":{"polluted":true}}}`],
    ];

    it.each([
      ['POST /api/messages/:id', 'message', '"content":"hi",'],
      ['POST /api/works', 'work', '"title":"t","price":1,'],
      ['POST /api/messages/system/mark-read', 'mark', ''],
      ['POST /api/auth/register', 'register', '"username":"proto_user","password":"password123",'],
      ['POST /api/auth/login', 'login', '"username":"proto_user","password":"password123",'],
    ])('%s answers 400 VALIDATION and pollutes nothing', async (_name, kind, extra) => {
      const path = { message: `/api/messages/${carol.id}`, work: '/api/works', mark: '/api/messages/system/mark-read', register: '/api/auth/register', login: '/api/auth/login' }[kind]!;
      const stored = async () => (await s.request('GET', `/api/messages/${carol.id}?limit=100`, { token: mallory.token })).body.messages.length;
      const before = await stored();
      for (const [, raw] of bodies(extra)) {
        const r = await s.request('POST', path, { token: mallory.token, raw });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION');
        expectPrototypeClean();
      }
      // Nothing was created on the way.
      expect(await stored()).toBe(before);
      expect((await s.request('GET', '/api/works', { token: mallory.token })).body.works).toEqual([]);
    });

    it('ignores pollution attempts in query strings', async () => {
      for (const q of ['__proto__[polluted]=1', 'constructor[prototype][polluted]=1', '__proto__.polluted=1', 'q[__proto__][polluted]=1']) {
        for (const path of ['/api/users', '/api/messages/sync', `/api/messages/${carol.id}`, '/api/messages/system/list']) {
          const r = await s.request('GET', `${path}?${q}`, { token: mallory.token });
          expect([200, 400]).toContain(r.status);
          expectPrototypeClean();
        }
      }
    });

    it.each(['chat:send', 'chat:read', 'chat:typing', 'chat:sync', 'presence:list'])(
      '%s over the socket answers VALIDATION and pollutes nothing',
      async (event) => {
        const tab = await s.connect(mallory);
        const valid: Record<string, string> = {
          'chat:send': `"to":"${carol.id}","content":"hi","clientId":"${randomUUID()}",`,
          'chat:read': `"peerId":"${carol.id}",`,
          'chat:typing': `"to":"${carol.id}","typing":true,`,
          'chat:sync': '',
          'presence:list': '',
        };
        for (const [, raw] of bodies(valid[event]!)) {
          const ack = await emitAck(tab, event, JSON.parse(raw));
          expect(ack).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
          expectPrototypeClean();
        }
        expect(tab.connected).toBe(true);
      },
    );
  });

  describe('SQL-looking and odd text', () => {
    const texts = [
      `'; DROP TABLE "Message"; --`,
      `" OR 1=1 --`,
      `'); DELETE FROM "User" WHERE ('1'='1`,
      `$1 $2 %s %d %% _ \\ \\' {{7*7}} \${7*7}`,
      `<script>alert('x')</script><img src=x onerror=alert(1)>`,
      `__proto__ constructor prototype`,
      `Robert'); DROP TABLE Students;-- 🧑‍💻 مرحبا עברית`,
    ];

    it('stores and returns SQL-looking content verbatim, everywhere it shows', async () => {
      const aliceTab = await s.connect(alice);
      const bobTab = await s.connect(bob);
      for (const content of texts) {
        const pushed = waitFor<{ message: WireMessage }>(bobTab, 'chat:message');
        const ack = await sendOverSocket(aliceTab, bob.id, content);
        expect(ack.message.content).toBe(content);
        expect((await pushed).message.content).toBe(content);
      }
      const history = await s.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token });
      expect(history.body.messages.map((m: WireMessage) => m.content).slice(-texts.length)).toEqual(texts);
      const conv = await s.request('GET', '/api/messages/conversations/list', { token: bob.token });
      expect(conv.body.conversations[0].lastMessage.content).toBe(texts.at(-1));
      // The tables are all still there.
      expect((await s.request('POST', '/api/auth/login', { body: { username: alice.username, password: 'password123' } })).status).toBe(200);
      expect((await s.request('GET', `/api/messages/${bob.id}`, { token: alice.token })).body.messages[0].id).toBe(aliceToBob.id);
    });

    it('stores SQL-looking display names and work titles verbatim, and searches them literally', async () => {
      const name = `x'); DROP TABLE "User";--`;
      const reg = await s.request('POST', '/api/auth/register', { body: { username: `sql_${Date.now().toString(36)}`, password: 'password123', displayName: name } });
      expect(reg.status).toBe(201);
      expect((await s.request('GET', '/api/me', { token: reg.body.token })).body.user.displayName).toBe(name);
      const work = await s.request('POST', '/api/works', { token: reg.body.token, body: { title: `' OR '1'='1`, price: 1 } });
      expect(work.body.work.title).toBe(`' OR '1'='1`);
      const found = await s.request('GET', `/api/users?q=${encodeURIComponent(`' OR '1'='1`)}`, { token: alice.token });
      expect(found.body.users).toEqual([]);
      const exact = await s.request('GET', `/api/users?q=${encodeURIComponent(`DROP TABLE "User"`)}`, { token: alice.token });
      expect(exact.body.users.map((u: { id: string }) => u.id)).toEqual([reg.body.user.id]);
    });

    it.each([
      ['a message', (t: string) => s.request('POST', `/api/messages/${carol.id}`, { token: mallory.token, body: { content: t } })],
      ['a display name', (t: string) => s.request('POST', '/api/auth/register', { body: { username: `nul_${randomUUID().slice(0, 8)}`, password: 'password123', displayName: t } })],
      ['a work title', (t: string) => s.request('POST', '/api/works', { token: mallory.token, body: { title: t, price: 1 } })],
      ['a search', (t: string) => s.request('GET', `/api/users?q=${encodeURIComponent(t)}`, { token: mallory.token })],
      ['a clientId', (t: string) => s.request('POST', `/api/messages/${carol.id}`, { token: mallory.token, body: { content: 'hi', clientId: t } })],
    ])('answers 400 VALIDATION, not a server error, to a NUL character in %s', async (_name, send) => {
      const r = await send('a\u0000b');
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
    });

    it('answers VALIDATION over the socket to a NUL character in content or clientId', async () => {
      const tab = await s.connect(mallory);
      expect((await emitAck(tab, 'chat:send', { to: carol.id, content: 'a\u0000b', clientId: randomUUID() })).error.code).toBe('VALIDATION');
      expect((await emitAck(tab, 'chat:send', { to: carol.id, content: 'hi', clientId: 'a\u0000b' })).error.code).toBe('VALIDATION');
      expect(tab.connected).toBe(true);
    });
  });

  describe('forged tokens', () => {
    const forged = (): [string, string][] => [
      ['signed with another key', jwt.sign({}, 'another-secret-another-secret-0123', { subject: alice.id, expiresIn: '1h' })],
      ['alg none', jwt.sign({ sub: alice.id }, '', { algorithm: 'none' })],
      ['HS512 with the right key', jwt.sign({}, SECRET, { subject: alice.id, algorithm: 'HS512', expiresIn: '1h' })],
      ['a changed subject under the original signature', resign(alice.token, bob.id)],
      ['expired', jwt.sign({}, SECRET, { subject: alice.id, expiresIn: -10 })],
      ['no subject', jwt.sign({}, SECRET, { expiresIn: '1h' })],
      ['a non-string subject', jwt.sign({ sub: 42 } as unknown as object, SECRET, { expiresIn: '1h' })],
    ];

    /** alice's token with the payload's subject swapped, keeping alice's signature. */
    function resign(token: string, sub: string): string {
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
      return [header, Buffer.from(JSON.stringify({ ...claims, sub })).toString('base64url'), signature].join('.');
    }

    it('refuses them on HTTP with 401, reading nothing and sending nothing', async () => {
      for (const [name, token] of forged()) {
        const me = await s.request('GET', '/api/me', { token });
        expect([name, me.status, me.body.error?.code]).toEqual([name, 401, 'UNAUTHORIZED']);
        const history = await s.request('GET', `/api/messages/${bob.id}`, { token });
        expect([name, history.status]).toEqual([name, 401]);
        const send = await s.request('POST', `/api/messages/${bob.id}`, { token, body: { content: 'forged' } });
        expect([name, send.status]).toEqual([name, 401]);
      }
      const h = await s.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token });
      expect(h.body.messages.map((m: WireMessage) => m.content)).not.toContain('forged');
    });

    it('refuses them on the socket with connect_error "unauthorized"', async () => {
      for (const [name, token] of forged()) {
        const err = await s.connect(token).then(
          () => new Error('connected'),
          (e: Error) => e,
        );
        expect([name, err.message]).toEqual([name, 'unauthorized']);
      }
    });
  });

  describe('reaching for what is not yours', () => {
    it('shows a third party only their own part of a conversation: nothing', async () => {
      for (const peer of [alice, bob]) {
        const r = await s.request('GET', `/api/messages/${peer.id}`, { token: mallory.token });
        expect(r).toEqual({ status: 200, body: { messages: [], nextCursor: null } });
      }
      // With a cursor taken from alice's own history, still nothing of theirs.
      const page = await s.request('GET', `/api/messages/${bob.id}?limit=1`, { token: alice.token });
      const cursor = page.body.nextCursor ?? 'x';
      const r = await s.request('GET', `/api/messages/${bob.id}?before=${encodeURIComponent(cursor)}`, { token: mallory.token });
      expect(r.body.messages ?? []).toEqual([]);
      const conv = await s.request('GET', '/api/messages/conversations/list', { token: mallory.token });
      expect(conv.body.conversations.map((c: { peer: { id: string } }) => c.peer.id)).toEqual([carol.id]);
    });

    it('syncs only the caller’s own messages, over HTTP and the socket', async () => {
      const overHttp = await s.request('GET', '/api/messages/sync?limit=100', { token: mallory.token });
      const tab = await s.connect(mallory);
      const overSocket = await emitAck(tab, 'chat:sync', { limit: 100 });
      for (const page of [overHttp.body, overSocket]) {
        expect(page.messages.length).toBeGreaterThan(0);
        for (const m of page.messages as WireMessage[]) expect([m.fromUserId, m.toUserId]).toContain(mallory.id);
        expect(page.messages.map((m: WireMessage) => m.id)).not.toContain(aliceToBob.id);
      }
    });

    it('does not let a third party delete someone else’s messages or notifications', async () => {
      const bobsNotice = (await s.request('GET', '/api/messages/system/list', { token: bob.token })).body.messages[0] as WireMessage;
      expect(bobsNotice).toBeDefined();
      for (const id of [aliceToBob.id, bobToAlice.id, bobsNotice.id]) {
        const r = await s.request('DELETE', `/api/messages/${id}`, { token: mallory.token });
        expect(r.status).toBe(404);
        expect(r.body.error.code).toBe('NOT_FOUND');
      }
      // The recipient may not recall what the sender wrote either.
      expect((await s.request('DELETE', `/api/messages/${aliceToBob.id}`, { token: bob.token })).status).toBe(403);
      const history = await s.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token });
      expect(history.body.messages.map((m: WireMessage) => m.id)).toEqual(expect.arrayContaining([aliceToBob.id, bobToAlice.id]));
      const notices = await s.request('GET', '/api/messages/system/list?limit=100', { token: bob.token });
      expect(notices.body.messages.map((m: WireMessage) => m.id)).toContain(bobsNotice.id);
    });

    it('does not let a third party mark someone else’s notifications or messages read', async () => {
      const before = (await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body as UnreadCounts;
      expect(before.system).toBeGreaterThan(0);
      expect(before.byPeer[alice.id]).toBeGreaterThan(0);
      const bobsIds = (await s.request('GET', '/api/messages/system/list?unreadOnly=true', { token: bob.token })).body.messages.map((m: WireMessage) => m.id);

      const aliceTab = await s.connect(alice);
      const receipts = collect(aliceTab, 'chat:read');
      expect(await s.request('POST', '/api/messages/system/mark-read', { token: mallory.token, body: { ids: bobsIds } })).toEqual({
        status: 200,
        body: { updated: 0 },
      });
      expect((await s.request('POST', `/api/messages/${alice.id}/read`, { token: mallory.token })).body).toEqual({ updated: 0 });
      const tab = await s.connect(mallory);
      expect(await emitAck(tab, 'chat:read', { peerId: alice.id })).toEqual({ ok: true, updated: 0 });
      await quietPeriod();
      expect(receipts).toEqual([]);
      expect((await s.request('GET', '/api/messages/unread/count', { token: bob.token })).body).toEqual(before);
    });
  });
});
