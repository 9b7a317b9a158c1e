// `chat.attach(io)` on a host's own Socket.IO server, one node or several. The module runs as
// one of several nodes exactly when the host gives it `redis`; then the host's adapter must link
// the nodes, and friendship changes, deleted users and socket closes reach the other nodes
// through it. Without `redis` it is the only node, whatever the adapter's class is called.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import express from 'express';
import { PGlite } from '@electric-sql/pglite';
import { Server } from 'socket.io';
import { Adapter } from 'socket.io-adapter';
import { createAdapter, RedisAdapter } from '@socket.io/redis-adapter';
import { createClient, type RedisClientType } from 'redis';
import { io as ioClient } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFriendChat, type ChatUser, type FriendChat, type FriendChatOptions, type WireMessage } from 'friend-chat/server';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import type { ClientSocket } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';

const USERS: ChatUser[] = [
  { id: '42', username: 'ada', displayName: 'Ada', avatarUrl: null },
  { id: '43', username: 'bo', displayName: 'Bo', avatarUrl: null },
];

/** A host: Express, its own Socket.IO server (with the adapter it chooses), the module attached. */
interface Host {
  chat: FriendChat;
  io: Server;
  url: string;
  close(): Promise<void>;
}

const open: ClientSocket[] = [];
function connect(url: string, userId: string): Promise<ClientSocket> {
  const socket: ClientSocket = ioClient(url, { auth: { token: `tok-${userId}` }, transports: ['websocket'], reconnection: false, forceNew: true });
  open.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(err));
  });
}
afterEach(() => {
  for (const s of open.splice(0)) s.disconnect();
});

async function startHost(opts: { chat: FriendChatOptions; adapter?: (io: Server) => void }): Promise<Host> {
  const chat = await createFriendChat(opts.chat);
  const app = express();
  app.use('/api', chat.router);
  const http: HttpServer = createServer(app);
  const io = new Server(http);
  opts.adapter?.(io);
  try {
    chat.attach(io);
  } catch (err) {
    await chat.close();
    throw err;
  }
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    chat,
    io,
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async close() {
      await new Promise<void>((r) => io.close(() => r()));
      await chat.close();
    },
  };
}

function ports(friends: Set<string>): Pick<FriendChatOptions, 'identify' | 'users' | 'friends'> {
  return {
    identify: async (token) => (token.startsWith('tok-') ? token.slice(4) : null),
    users: { byIds: async (ids) => USERS.filter((u) => ids.includes(u.id)) },
    friends: {
      areFriends: async (a, b) => friends.has(`${a}:${b}`),
      friendIds: async (id) => [...friends].filter((f) => f.startsWith(`${id}:`)).map((f) => f.split(':')[1]!),
    },
  };
}

describe('one node: no redis', () => {
  let pglite: PGlite;
  beforeAll(async () => {
    pglite = new PGlite();
  });
  afterAll(async () => {
    await pglite.close();
  });

  it('treats a host’s own adapter class as one node: a friendship change asks no other node', async () => {
    // A host's adapter of its own (say, one that logs) that links no nodes: the old guess took
    // any class not named "Adapter" for a multi-node one and sent every change to nobody.
    class LoggingAdapter extends Adapter {}
    const warn = vi.spyOn(console, 'warn');
    const host = await startHost({ chat: { database: { pglite }, ...ports(new Set(['42:43', '43:42'])) }, adapter: (io) => io.adapter(LoggingAdapter) });
    try {
      expect(host.io.of('/').adapter).toBeInstanceOf(LoggingAdapter);
      await host.chat.friendsChanged('42', '43');
      await host.chat.userDeleted('nobody-here');
      expect(warn.mock.calls.filter((c) => /serverSideEmit/.test(String(c[0])))).toEqual([]);
      // And it serves: two friends chat live on it.
      const bo = await connect(host.url, '43');
      const ada = await connect(host.url, '42');
      const arrived = waitFor<{ message: WireMessage }>(bo, 'chat:message');
      expect((await emitAck(ada, 'chat:send', { to: '43', content: 'one node', clientId: randomUUID() })).ok).toBe(true);
      expect((await arrived).message.content).toBe('one node');
    } finally {
      warn.mockRestore();
      await host.close();
    }
  });
});

const noRedis = !process.env.REDIS_URL;
if (noRedis) console.warn('module-nodes.test.ts: the several-node tests skipped: set REDIS_URL to run them');

describe.skipIf(noRedis)('several nodes: redis given, the host’s Socket.IO server on the Redis adapter', () => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  const prefix = `fc-test-${randomBytes(4).toString('hex')}:`;
  const friends = new Set(['42:43', '43:42']);
  const clients: RedisClientType[] = [];
  let a: Host;
  let b: Host;

  /** The host's own Redis pair and adapter (its key, not the module's). */
  async function redisAdapter(): Promise<(io: Server) => void> {
    const pub = createClient({ url: process.env.REDIS_URL }) as RedisClientType;
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    clients.push(pub, sub);
    return (io) => io.adapter(createAdapter(pub, sub, { key: `${prefix}host-io` }));
  }
  const chatOptions = (): FriendChatOptions => ({
    database: tdb.url ? { url: tdb.url } : { pglite: pglite! },
    ...ports(friends),
    redis: { url: process.env.REDIS_URL!, prefix },
  });

  beforeAll(async () => {
    // One database for both nodes: PostgreSQL when configured, else one PGlite both share.
    tdb = await createTestDatabase(process.env.DATABASE_URL ? 'postgres' : 'pglite');
    if (!tdb.url) pglite = new PGlite();
    a = await startHost({ chat: chatOptions(), adapter: await redisAdapter() });
    b = await startHost({ chat: chatOptions(), adapter: await redisAdapter() });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    for (const c of clients) await c.close().catch(() => {});
    await pglite?.close();
    await tdb?.drop();
  });

  it('pushes across nodes through the host’s adapter', async () => {
    const bo = await connect(b.url, '43');
    const arrived = waitFor<{ message: WireMessage }>(bo, 'chat:message');
    const { message } = await a.chat.send({ from: '42', to: '43', content: 'from node A' });
    expect((await arrived).message).toEqual(message);
  });

  it('drops the other node’s cached friendship at once when the host reports a change on one node', async () => {
    const bo = await connect(b.url, '43');
    // Node B has asked (and cached) that Ada and Bo are friends.
    expect((await emitAck(bo, 'chat:send', { to: '42', content: 'cached', clientId: randomUUID() })).ok).toBe(true);
    friends.delete('42:43');
    friends.delete('43:42');
    try {
      await a.chat.friendsChanged('42', '43');
      const after = await emitAck(bo, 'chat:send', { to: '42', content: 'still?', clientId: randomUUID() });
      expect(after.error?.code).toBe('NOT_FRIENDS');
    } finally {
      friends.add('42:43').add('43:42');
      await a.chat.friendsChanged('42', '43');
    }
  });

  it('closes a deleted user’s socket on the other node, telling it why', async () => {
    const extra = { id: '44', username: 'cy', displayName: 'Cy', avatarUrl: null };
    USERS.push(extra);
    const cy = await connect(b.url, '44');
    const closed = waitFor<{ reason: string }>(cy, 'session:closed');
    const gone = new Promise<string>((resolve) => cy.once('disconnect', resolve));
    USERS.splice(USERS.indexOf(extra), 1);
    await a.chat.userDeleted('44');
    expect(await closed).toEqual({ reason: 'user_deleted' });
    expect(await gone).toBe('io server disconnect');
  });

  it('takes a host’s own subclass of the Redis adapter, under another name, for what it does', async () => {
    // The host's Redis pair, its adapter class of its own; the chat checks every 0.1 s what it reaches.
    const pub = createClient({ url: process.env.REDIS_URL }) as RedisClientType;
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    clients.push(pub, sub);
    class SiteBroker extends RedisAdapter {}
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m), info: () => {}, debug: () => {} };
    const c = await startHost({
      chat: { ...chatOptions(), logger, limits: { adapterCheckSeconds: 0.1 } },
      // Socket.IO calls `new` on it: a function, as createAdapter's own answer is.
      adapter: (io) =>
        io.adapter(function siteBroker(nsp: unknown) {
          return new SiteBroker(nsp, pub, sub, { key: `${prefix}host-io` });
        } as never),
    });
    try {
      expect(c.io.of('/').adapter).toBeInstanceOf(SiteBroker);
      const bo = await connect(c.url, '43');
      const arrived = waitFor<{ message: WireMessage }>(bo, 'chat:message');
      const { message } = await a.chat.send({ from: '42', to: '43', content: 'to a site’s broker' });
      expect((await arrived).message).toEqual(message);
      // Well past the four rounds a shortfall must last: three chat nodes, three servers reached.
      await new Promise((r) => setTimeout(r, 800));
      expect(errors).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('logs an adapter that claims to link nodes but reaches no other server', async () => {
    // Looks like a linking adapter (its own serverSideEmit), so attach() lets it through; two
    // nodes on it, under a chat prefix of their own: what it reaches (1 server) gives it away.
    class LooksLinked extends Adapter {
      override serverSideEmit(): void {}
    }
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m), info: () => {}, debug: () => {} };
    const own = { ...chatOptions(), redis: { url: process.env.REDIS_URL!, prefix: `${prefix}other:` }, logger, limits: { adapterCheckSeconds: 0.1 } };
    const c = await startHost({ chat: own, adapter: (io) => io.adapter(LooksLinked) });
    const d = await startHost({ chat: own, adapter: (io) => io.adapter(LooksLinked) });
    try {
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5000, interval: 50 });
      expect(errors[0]).toMatch(/2 chat nodes share the Redis prefix .* reaches only 1 server\(s\)/);
      // Once a node (c and d each), not every round.
      await new Promise((r) => setTimeout(r, 500));
      expect(errors.filter((e) => /reaches only/.test(e))).toHaveLength(2);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('refuses to attach to a host server whose adapter links no nodes when redis is given', async () => {
    await expect(startHost({ chat: chatOptions() })).rejects.toThrow(/`redis` is set.*links no nodes/s);
  });

  it('warns the host whose adapter links nodes when redis is not given', async () => {
    const errors: string[] = [];
    const logger = { error: (m: string) => errors.push(m), info: () => {}, debug: () => {} };
    const { redis: _, ...single } = chatOptions();
    const host = await startHost({ chat: { ...single, logger }, adapter: await redisAdapter() });
    try {
      expect(errors).toEqual([expect.stringMatching(/links several nodes but `redis` is not set/)]);
    } finally {
      await host.close();
    }
  });
});
