// The module as a stranger embeds it: a minimal host with its own Express app, its own
// Socket.IO server (with handlers of its own), string user ids like "42", an async identify,
// and nothing of the demo. Bad input from the host or its users is refused cleanly.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { Server } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFriendChat, type ChatUser, type FriendChat, type UnreadCounts, type WireMessage } from 'friend-chat/server';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import type { ClientSocket } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';

const USERS: ChatUser[] = [
  { id: '42', username: 'ada', displayName: 'Ada', avatarUrl: null },
  { id: '43', username: 'bo', displayName: 'Bo', avatarUrl: null },
  { id: '44', username: 'cy', displayName: 'Cy', avatarUrl: 'https://example.org/cy.png' },
];
const FRIENDS = new Set(['42:43', '43:42']);

describe.each(dbTargets())('a minimal host around createFriendChat on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let hostPg: pg.Client | null = null;
  let chat: FriendChat;
  let http: HttpServer;
  let io: Server;
  let url: string;
  const sockets: ClientSocket[] = [];

  // The host's own transaction on the module's database (a node-postgres client, or PGlite's).
  async function inHostTransaction(fn: (tx: { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> }) => Promise<void>) {
    if (pglite) return pglite.transaction((tx) => fn(tx));
    await hostPg!.query('BEGIN');
    try {
      await fn(hostPg!);
      await hostPg!.query('COMMIT');
    } catch (err) {
      await hostPg!.query('ROLLBACK');
      throw err;
    }
  }
  const count = async (toUserId: string) =>
    (await chat.internals.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM friendchat."Message" WHERE "toUserId" = $1`, [toUserId]))[0]!.n;

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    if (tdb.url) {
      hostPg = new pg.Client({ connectionString: tdb.url });
      await hostPg.connect();
    } else pglite = new PGlite();
    chat = await createFriendChat({
      database: tdb.url ? { url: tdb.url } : { pglite: pglite! },
      identify: async (token) => {
        await new Promise((r) => setTimeout(r, 1));
        if (token === 'boom') throw new Error('the host auth service is down');
        if (token === 'numeric') return 42 as unknown as string; // a host that forgot String(id)
        return token.startsWith('tok-') ? token.slice(4) : null;
      },
      users: { byIds: async (ids) => USERS.filter((u) => ids.includes(u.id)) },
      friends: {
        areFriends: async (a, b) => FRIENDS.has(`${a}:${b}`),
        friendIds: async (id) => USERS.filter((u) => FRIENDS.has(`${id}:${u.id}`)).map((u) => u.id),
      },
      uploads: { dir: '/tmp/unused' },
      limits: { chatRatePerSecond: 100 },
    });
    const app = express();
    app.get('/api/host/ping', (_req, res) => void res.json({ host: true }));
    app.use('/api', chat.router);
    http = createServer(app);
    io = new Server(http);
    // The host's own handlers: on a namespace of its own, and on '/' beside the module's.
    io.of('/host').on('connection', (s) => s.on('echo', (p: unknown, ack: (x: unknown) => void) => ack(p)));
    io.on('connection', (s) => s.on('host:ping', (ack: (x: string) => void) => ack(`pong ${s.data.userId}`)));
    expect(chat.attach(io)).toBe(io);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await new Promise<void>((r) => io.close(() => r()));
    await chat.close();
    await hostPg?.end();
    await pglite?.close();
    await tdb.drop();
  });

  function connect(token: string, nsp = ''): Promise<ClientSocket> {
    const socket: ClientSocket = ioClient(url + nsp, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(err));
    });
  }
  async function request(method: string, path: string, token?: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  it('chats live between the host’s users "42" and "43"', async () => {
    const bo = await connect('tok-43');
    const arrived = waitFor<{ message: WireMessage }>(bo, 'chat:message');
    const r = await request('POST', '/api/messages/43', 'tok-42', { content: 'hello from 42' });
    expect(r.status).toBe(201);
    expect((await arrived).message).toMatchObject({ fromUserId: '42', toUserId: '43', content: 'hello from 42', messageType: 'CHAT' });
    const friends = await request('GET', '/api/friends', 'tok-42');
    expect(friends.body.friends).toEqual([{ user: USERS[1], online: true, lastSeenAt: expect.any(String), unread: 0 }]);
    const stranger = await request('POST', '/api/messages/44', 'tok-42', { content: 'hi' });
    expect(stranger.body.error.code).toBe('NOT_FRIENDS');
  });

  it('answers 401 and connect_error "unauthorized" when identify returns null or throws, and keeps serving', async () => {
    for (const token of ['nobody', 'boom']) {
      const r = await request('GET', '/api/messages/unread/count', token);
      expect(r.status, token).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
      await expect(connect(token)).rejects.toMatchObject({ message: 'unauthorized' });
    }
    expect((await request('GET', '/api/messages/unread/count')).status).toBe(401);
    // Nothing else broke.
    expect((await request('GET', '/api/messages/unread/count', 'tok-42')).status).toBe(200);
    const ada = await connect('tok-42');
    expect((await emitAck(ada, 'presence:list', {})).ok).toBe(true);
  });

  it('answers 400 VALIDATION for a host id over 64 characters or not a string', async () => {
    const long = '9'.repeat(65);
    for (const path of [`/api/messages/${long}`, `/api/messages/${long}/read`]) {
      const r = await request(path.endsWith('read') ? 'POST' : 'GET', path, 'tok-42');
      expect(r.status, path).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
    }
    expect((await request('GET', `/api/messages/${'9'.repeat(64)}`, 'tok-42')).body.error.code).toBe('NOT_FOUND');
    const ada = await connect('tok-42');
    for (const to of [long, 43, null]) {
      const ack = await emitAck(ada, 'chat:send', { to, content: 'x', clientId: randomUUID() });
      expect(ack.error?.code, String(to)).toBe('VALIDATION');
    }
    expect((await emitAck(ada, 'chat:read', { peerId: long })).error.code).toBe('VALIDATION');
  });

  it('answers 401 and connect_error "unauthorized" when identify answers an id over 64 characters or not a string', async () => {
    for (const token of [`tok-${'7'.repeat(65)}`, 'numeric']) {
      const r = await request('GET', '/api/messages/unread/count', token);
      expect(r.status, token).toBe(401);
      expect(r.body.error.code).toBe('UNAUTHORIZED');
      await expect(connect(token)).rejects.toMatchObject({ message: 'unauthorized' });
    }
    expect((await request('GET', `/api/messages/unread/count`, `tok-${'7'.repeat(64)}`)).status).toBe(200);
  });

  it('throws to the host for notify to an unknown user or with metadata JSON cannot carry, storing nothing', async () => {
    const before = await count('42');
    await expect(chat.notify('nobody', { type: 'SYSTEM_LIKE', metadata: {} })).rejects.toThrow(/unknown user/);
    await expect(chat.notifyMany(['42', 'nobody'], { type: 'SYSTEM_LIKE', metadata: {} })).rejects.toThrow(/unknown user/);
    for (const id of ['4'.repeat(65), 42, null]) {
      await expect(chat.notify(id as string, { type: 'SYSTEM_LIKE', metadata: {} }), String(id)).rejects.toThrow(/is not a user id/);
    }
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    for (const metadata of [{ f: () => 1 }, { n: 10n }, cycle, { d: new Date() }, { x: NaN }]) {
      await expect(chat.notify('42', { type: 'SYSTEM_LIKE', metadata })).rejects.toThrow(/not JSON-serialisable/);
    }
    for (const type of ['lowercase', 'CHAT', '', 'A'.repeat(65), 'SYSTEM-LIKE']) {
      await expect(chat.notify('42', { type, metadata: {} })).rejects.toThrow(/notification type/);
    }
    expect(await count('42')).toBe(before);
    expect(await count('nobody')).toBe(0);
  });

  it('stores, lists, counts and pushes a host’s own notification type like the built-in ones', async () => {
    const cy = await connect('tok-44');
    const pushed = waitFor<{ message: WireMessage }>(cy, 'notification:new');
    const counted = waitFor<UnreadCounts>(cy, 'unread:update', 5000, (c) => c.system === 1);
    const stored = await chat.notify('44', { type: 'SYSTEM_LIKE', content: 'Ada liked your photo', metadata: { by: USERS[0], photo: { id: 7 } } });
    expect(stored).toMatchObject({ toUserId: '44', fromUserId: null, messageType: 'SYSTEM_LIKE', metadata: { photo: { id: 7 } } });
    expect((await pushed).message).toEqual(stored);
    expect(await counted).toEqual({ total: 0, byPeer: {}, byGroup: {}, system: 1, muted: { users: [], groups: [] } });
    expect((await request('GET', '/api/messages/system/list', 'tok-44')).body.messages).toEqual([stored]);
    expect((await request('GET', '/api/messages/unread/count', 'tok-44')).body.system).toBe(1);
  });

  it('stores a notification inside the host’s own transaction: there once it commits, nowhere if it rolls back', async () => {
    const before = await count('43');
    await expect(
      inHostTransaction(async (tx) => {
        await chat.notifications.store(tx, '43', { type: 'SYSTEM_GIFT', metadata: { coins: 5 } });
        throw new Error('the host changed its mind');
      }),
    ).rejects.toThrow('changed its mind');
    expect(await count('43')).toBe(before);

    const bo = await connect('tok-43');
    const pushed = waitFor<{ message: WireMessage }>(bo, 'notification:new');
    let stored: WireMessage | null = null;
    await inHostTransaction(async (tx) => {
      stored = await chat.notifications.store(tx, '43', { type: 'SYSTEM_GIFT', content: 'A gift', metadata: { coins: 5 } });
    });
    await chat.notifications.publish(stored!);
    expect((await pushed).message).toEqual(stored);
    expect(await count('43')).toBe(before + 1);
  });

  it('leaves the host’s own Socket.IO handlers working beside the module’s', async () => {
    const host = await connect('anything', '/host');
    expect(await (host as unknown as { emitWithAck(e: string, p: unknown): Promise<unknown> }).emitWithAck('echo', { n: 1 })).toEqual({ n: 1 });
    const ada = await connect('tok-42');
    expect(await (ada as unknown as { emitWithAck(e: string): Promise<unknown> }).emitWithAck('host:ping')).toBe('pong 42');
    expect((await request('GET', '/api/host/ping')).body).toEqual({ host: true });
  });

  it('keeps every table of the module out of the public schema', async () => {
    const rows = await chat.internals.db.sql<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema IN ('public', 'friendchat') ORDER BY 1, 2`,
    );
    expect(rows).toEqual([
      { schema: 'friendchat', name: 'Attachment' },
      { schema: 'friendchat', name: 'Delivery' },
      { schema: 'friendchat', name: 'Group' },
      { schema: 'friendchat', name: 'GroupMember' },
      { schema: 'friendchat', name: 'HookOutbox' },
      { schema: 'friendchat', name: 'Message' },
      { schema: 'friendchat', name: 'ModuleSecret' },
      { schema: 'friendchat', name: 'Mute' },
      { schema: 'friendchat', name: 'Reaction' },
      { schema: 'friendchat', name: 'UnreadCount' },
      { schema: 'friendchat', name: 'UserPresence' },
      { schema: 'friendchat', name: '_prisma_migrations' },
    ]);
  });
});
