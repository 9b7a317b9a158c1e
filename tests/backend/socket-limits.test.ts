// Issue 11, point 5 and the open socket of point 7: bounds on what one user or address holds.
// Sockets per user (the oldest is told why and closed) and per address (handshakes beyond are
// refused), a per-user event budget across sockets, the handshake's Origin checked like CORS,
// and a socket closed when its token expires. The cross-node parts run over Redis at the end.
import { randomBytes } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { io as ioClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../backend/src/config.ts';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp, serverSeesTabs, waitUntil } from '../helpers/chat.ts';

const SECRET = 'test-secret-test-secret-0123456789'; // startServer's

type Ack = { ok: boolean; error?: { code: string } };
const closedWith = (socket: ClientSocket) => waitFor<{ reason: string }>(socket, 'session:closed');
const disconnected = (socket: ClientSocket) => new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

/** A client that connects or fails; answers the socket or the connect_error. */
function tryConnect(url: string, token: string, more: Partial<ManagerOptions & SocketOptions> = {}): Promise<ClientSocket | Error> {
  const socket: ClientSocket = ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...more });
  return new Promise((resolve) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      resolve(err);
    });
  });
}

/** Emits `n` requests at once on each socket; answers every ack (a timeout fails the test). */
async function burst(sockets: ClientSocket[], n: number, event: string, payload: unknown): Promise<Ack[]> {
  return Promise.all(sockets.flatMap((s) => Array.from({ length: n }, () => emitAck<Ack>(s, event, payload, 20_000))));
}

describe.each(dbTargets())('socket limits on %s', (target) => {
  let s: TestServer;
  const open: ClientSocket[] = [];

  beforeAll(async () => {
    s = await startServer({
      target,
      config: { maxSocketsPerUser: 3, maxSocketsPerAddress: 1000, socketEventRate: 10, corsOrigins: ['https://friends.example'] },
    });
  });
  afterAll(async () => s.close());
  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });

  const connect = async (u: TestUser) => {
    const socket = await s.connect(u);
    open.push(socket);
    return socket;
  };

  describe('sockets per user', () => {
    it('closes the oldest socket when one more would exceed MAX_SOCKETS_PER_USER, and says why', async () => {
      const [me, friend] = await friendPair(s);
      const first = await connect(me);
      const second = await connect(me);
      const third = await connect(me);
      const told = closedWith(first);
      const gone = disconnected(first);
      const fourth = await connect(me);
      expect(await told).toEqual({ reason: 'too_many_sockets' });
      expect(await gone).toBe('io server disconnect');
      await serverSeesTabs(s, me.id, 3);
      for (const t of [second, third, fourth]) expect(t.connected).toBe(true);

      // A message reaches each remaining tab once, and the closed one not at all.
      const seen = [second, third, fourth].map((t) => waitFor<{ message: WireMessage }>(t, 'chat:message'));
      const onClosed = collect(first, 'chat:message');
      const sent = await sendOverHttp(s, friend, me.id, 'to every tab');
      for (const got of await Promise.all(seen)) expect(got.message.id).toBe(sent.id);
      expect(onClosed).toEqual([]);
    });

    it('keeps the user to the cap when 30 sockets open at once', async () => {
      const [me, friend] = await friendPair(s);
      const tabs = await Promise.all(Array.from({ length: 30 }, () => connect(me)));
      await serverSeesTabs(s, me.id, 3);
      await waitUntil(() => tabs.filter((t) => t.connected).length === 3, 5000, 'three tabs left');
      const left = tabs.filter((t) => t.connected);
      const copies = left.map((t) => collect<{ message: WireMessage }>(t, 'chat:message'));
      await sendOverHttp(s, friend, me.id, 'one copy per tab');
      await waitUntil(() => copies.every((c) => c.length === 1), 5000, 'the message on each tab');
      expect(copies.flat()).toHaveLength(3);
    });

    it('lets other users connect as usual meanwhile', async () => {
      const [me, other] = await friendPair(s);
      for (let i = 0; i < 5; i++) await connect(me);
      const mine = await connect(other);
      expect(mine.connected).toBe(true);
      expect(await emitAck(mine, 'presence:list', {})).toEqual({ ok: true, online: [me.id] });
    });
  });

  describe('the handshake Origin', () => {
    it.each([
      ['another site', 'https://evil.example'],
      ['a look-alike of the listed origin', 'https://friends.example.evil.example'],
      ['the listed origin on another port', 'https://friends.example:8443'],
      ['"null" (a sandboxed frame)', 'null'],
    ])('refuses %s', async (_name, origin) => {
      const u = await s.register();
      const r = await tryConnect(s.url, u.token, { extraHeaders: { origin } });
      expect(r).toBeInstanceOf(Error);
      expect((await s.app.io.in(u.id).fetchSockets()).length).toBe(0);
    });

    it('refuses a foreign origin on the polling transport too', async () => {
      const u = await s.register();
      const r = await tryConnect(s.url, u.token, { transports: ['polling'], extraHeaders: { origin: 'https://evil.example' } });
      expect(r).toBeInstanceOf(Error);
    });

    it.each([
      ['the same origin', () => s.url],
      ['an origin listed in CORS_ORIGINS', () => 'https://friends.example'],
      ['no Origin header (not a browser)', () => undefined],
    ])('accepts %s', async (_name, origin) => {
      const u = await s.register();
      const o = origin();
      const r = await tryConnect(s.url, u.token, o === undefined ? {} : { extraHeaders: { origin: o } });
      expect(r).not.toBeInstanceOf(Error);
      open.push(r as ClientSocket);
    });
  });

  describe('per-user event budget (SOCKET_EVENT_RATE, 10 here)', () => {
    it('answers RATE_LIMITED beyond the budget, counted over all the user’s sockets, and does not do the work', async () => {
      const me = await s.register();
      const tabs = [await connect(me), await connect(me)];
      const acks = await burst(tabs, 10, 'chat:sync', {});
      // A fresh user's budget window opens with this burst: exactly 10 of the 20 get through.
      expect(acks.filter((a) => a.ok)).toHaveLength(10);
      expect(acks.filter((a) => !a.ok).map((a) => a.error?.code)).toEqual(Array(10).fill('RATE_LIMITED'));
      for (const t of tabs) expect(t.connected).toBe(true);
    });

    it('budgets presence:list, chat:read and chat:typing too, and leaves chat:send to its own limit', async () => {
      const [me, friend] = await friendPair(s);
      const tab = await connect(me);
      const friendTab = await connect(friend);
      const typing = collect(friendTab, 'chat:typing');
      const acks = [
        ...(await burst([tab], 4, 'presence:list', {})),
        ...(await burst([tab], 4, 'chat:read', { peerId: friend.id })),
        ...(await burst([tab], 4, 'chat:typing', { to: friend.id, typing: true })),
      ];
      expect(acks.filter((a) => a.ok)).toHaveLength(10);
      expect(acks.filter((a) => !a.ok).every((a) => a.error?.code === 'RATE_LIMITED')).toBe(true);
      await quietPeriod();
      // Only the typing signals that passed were relayed.
      expect(typing.length).toBe(acks.slice(8).filter((a) => a.ok).length);
      const send = await emitAck<Ack & { message: WireMessage }>(tab, 'chat:send', { to: friend.id, content: 'sends still go', clientId: 'c-1' });
      expect(send.ok).toBe(true);
    });

    it('does not spend the budget on refused input', async () => {
      const me = await s.register();
      const tab = await connect(me);
      const bad = await burst([tab], 15, 'chat:sync', { limit: 0 });
      expect(bad.every((a) => a.error?.code === 'VALIDATION')).toBe(true);
      expect((await emitAck<Ack>(tab, 'chat:sync', {})).ok).toBe(true);
    });

    it('30 sockets × 80 chat:sync from one user: every ack answers, most RATE_LIMITED, and another user is served meanwhile', async () => {
      const flood = await startServer({ target, config: { maxSocketsPerUser: 30, socketEventRate: 10 } });
      try {
        const [mallory, alice] = await friendPair(flood);
        const bob = await flood.register();
        await flood.makeFriends(alice, bob);
        const tabs = await Promise.all(Array.from({ length: 30 }, () => flood.connect(mallory)));
        const aliceTab = await flood.connect(alice);

        const started = Date.now();
        const acks = burst(tabs, 80, 'chat:sync', { limit: 100 });
        // While the flood is in flight, alice's requests are answered, over the socket and HTTP.
        const [aliceSync, aliceHttp, aliceSend] = await Promise.all([
          emitAck<Ack>(aliceTab, 'chat:sync', { limit: 100 }),
          flood.request('GET', '/api/messages/sync', { token: alice.token }),
          sendOverHttp(flood, alice, bob.id, 'not stalled'),
        ]);
        expect(aliceSync.ok).toBe(true);
        expect(aliceHttp.status).toBe(200);
        expect(aliceSend.content).toBe('not stalled');

        const answered = await acks;
        const seconds = Math.ceil((Date.now() - started) / 1000);
        expect(answered).toHaveLength(2400);
        const ok = answered.filter((a) => a.ok).length;
        expect(ok).toBeGreaterThan(0);
        expect(ok).toBeLessThanOrEqual(10 * (seconds + 1));
        expect(answered.filter((a) => !a.ok).every((a) => a.error?.code === 'RATE_LIMITED')).toBe(true);
      } finally {
        await flood.close();
      }
    });
  });

  describe('a socket outlives no token', () => {
    it('closes the socket when its token expires, says why, and the token no longer connects', async () => {
      const me = await s.register();
      const shortLived = jwt.sign({}, SECRET, { subject: me.id, expiresIn: 2 });
      const tab = await connect({ ...me, token: shortLived });
      const told = closedWith(tab);
      const gone = disconnected(tab);
      expect(await told).toEqual({ reason: 'token_expired' });
      expect(await gone).toBe('io server disconnect');
      await serverSeesTabs(s, me.id, 0);
      const again = await tryConnect(s.url, shortLived);
      expect(again).toBeInstanceOf(Error);
      expect((again as Error).message).toBe('unauthorized');
    });

    it('keeps a socket whose token lasts longer than a timer can wait (30 days)', async () => {
      const me = await s.register();
      const tab = await connect({ ...me, token: jwt.sign({}, SECRET, { subject: me.id, expiresIn: '30d' }) });
      const told = collect(tab, 'session:closed');
      await quietPeriod();
      expect(told).toEqual([]);
      expect(tab.connected).toBe(true);
    });
  });
});

describe.each(dbTargets())('sockets per address on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target, config: { maxSocketsPerAddress: 4, maxSocketsPerUser: 100 } });
  });
  afterAll(async () => s.close());

  it('refuses handshakes beyond MAX_SOCKETS_PER_ADDRESS, even all at once, and takes new ones once some close', async () => {
    const users = await Promise.all(Array.from({ length: 12 }, () => s.register()));
    const tries = await Promise.all(users.map((u) => tryConnect(s.url, u.token)));
    const connected = tries.filter((t): t is ClientSocket => !(t instanceof Error));
    const refused = tries.filter((t): t is Error => t instanceof Error);
    expect(connected).toHaveLength(4);
    expect(refused.map((e) => e.message)).toEqual(Array(8).fill('too_many_connections'));

    const closing = connected.pop()!;
    closing.close();
    await waitUntil(async () => (await s.app.io.fetchSockets()).length === 3, 5000, 'three sockets');
    const next = await tryConnect(s.url, users[0]!.token);
    expect(next).not.toBeInstanceOf(Error);
    for (const t of [...connected, next as ClientSocket]) t.close();
    await waitUntil(async () => (await s.app.io.fetchSockets()).length === 0, 5000, 'no sockets');
  });

  it('counts the client behind a trusted (loopback) proxy by X-Forwarded-For', async () => {
    const u = await s.register();
    const from = (address: string) => tryConnect(s.url, u.token, { extraHeaders: { 'x-forwarded-for': address } });
    const first = await Promise.all(Array.from({ length: 4 }, () => from('203.0.113.7')));
    expect(first.every((t) => !(t instanceof Error))).toBe(true);
    expect(((await from('203.0.113.7')) as Error).message).toBe('too_many_connections');
    const other = await from('198.51.100.9');
    expect(other).not.toBeInstanceOf(Error);
    for (const t of [...first, other]) (t as ClientSocket).close();
  });
});

const missing = ['DATABASE_URL', 'REDIS_URL'].filter((v) => !process.env[v]);

describe.skipIf(missing.length > 0)('socket limits across two nodes on one Redis', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  const open: ClientSocket[] = [];
  const nodeConfig = (): Partial<Config> => ({
    redisUrl: process.env.REDIS_URL,
    redisPrefix: `fc-test-${randomBytes(4).toString('hex')}:`,
    maxSocketsPerUser: 2,
    maxSocketsPerAddress: 3,
    socketEventRate: 5,
  });

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const config = nodeConfig();
    a = await startServer({ target: 'postgres', database: db, config });
    b = await startServer({ target: 'postgres', database: db, config });
  });
  afterEach(() => {
    for (const socket of open.splice(0)) socket.close();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  const connectTo = async (node: TestServer, u: TestUser) => {
    const socket = await node.connect(u);
    open.push(socket);
    return socket;
  };

  it('closes the oldest socket on the other node when a new one exceeds the cap, and says why', async () => {
    const me = await a.register();
    const onA = await connectTo(a, me);
    const onB = await connectTo(b, me);
    const told = closedWith(onA);
    const gone = disconnected(onA);
    const newest = await connectTo(b, me);
    expect(await told).toEqual({ reason: 'too_many_sockets' });
    expect(await gone).toBe('io server disconnect');
    await serverSeesTabs(a, me.id, 2);
    expect(onB.connected).toBe(true);
    expect(newest.connected).toBe(true);
  });

  it('shares the event budget between the nodes: a burst of 10 split over two nodes gets exactly 5 through', async () => {
    const me = await a.register();
    const acks = await burst([await connectTo(a, me), await connectTo(b, me)], 5, 'chat:sync', {});
    expect(acks.filter((x) => x.ok)).toHaveLength(5);
    expect(acks.filter((x) => !x.ok).map((x) => x.error?.code)).toEqual(Array(5).fill('RATE_LIMITED'));
  });

  it('counts an address over both nodes', async () => {
    const users = await Promise.all(Array.from({ length: 3 }, () => a.register()));
    const header = { extraHeaders: { 'x-forwarded-for': '192.0.2.44' } };
    const first = [await tryConnect(a.url, users[0]!.token, header), await tryConnect(b.url, users[1]!.token, header), await tryConnect(a.url, users[2]!.token, header)];
    expect(first.every((t) => !(t instanceof Error))).toBe(true);
    open.push(...(first as ClientSocket[]));
    expect(((await tryConnect(b.url, users[0]!.token, header)) as Error).message).toBe('too_many_connections');
  });
});
