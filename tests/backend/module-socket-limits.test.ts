// The socket bounds as a stranger's host gets them: on the host's own Socket.IO server (which
// the module does not configure), the handshake Origin is checked in the module's namespace
// middleware; `identify` may tell when a session ends, and the socket is closed then; the
// limits are createFriendChat options.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PGlite } from '@electric-sql/pglite';
import { Server } from 'socket.io';
import { io as ioClient, type ManagerOptions, type SocketOptions } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFriendChat, type ChatUser, type FriendChat } from 'friend-chat/server';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import type { ClientSocket } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { quietPeriod } from '../helpers/chat.ts';

const USERS: ChatUser[] = [
  { id: '42', username: 'ada', displayName: 'Ada', avatarUrl: null },
  { id: '43', username: 'bo', displayName: 'Bo', avatarUrl: null },
];

describe.each(dbTargets())('socket limits on a host’s own Socket.IO server on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let chat: FriendChat;
  let http: HttpServer;
  let io: Server;
  let url: string;
  const open: ClientSocket[] = [];
  /** Tokens "short-<id>" end this many ms after they are checked; "tok-<id>" say nothing. */
  const SHORT_MS = 1500;

  function tryConnect(token: string, more: Partial<ManagerOptions & SocketOptions> = {}): Promise<ClientSocket | Error> {
    const socket: ClientSocket = ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true, ...more });
    open.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => resolve(err));
    });
  }

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    if (!tdb.url) pglite = new PGlite();
    chat = await createFriendChat({
      database: tdb.url ? { url: tdb.url } : { pglite: pglite! },
      identify: async (token) => {
        if (token.startsWith('tok-')) return token.slice(4);
        if (token.startsWith('short-')) return { userId: token.slice(6), expiresAt: Date.now() + SHORT_MS };
        return null;
      },
      users: { byIds: async (ids) => USERS.filter((u) => ids.includes(u.id)) },
      friends: { areFriends: async () => false, friendIds: async () => [] },
      corsOrigins: ['https://friends.example'],
      limits: { socketsPerUser: 2, socketsPerAddress: 1000, socketEventsPerUserPerSecond: 3 },
    });
    const app = express();
    app.use('/api', chat.router);
    http = createServer(app);
    io = new Server(http);
    io.of('/host').on('connection', () => {});
    chat.attach(io);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });
  afterAll(async () => {
    await new Promise<void>((r) => io.close(() => r()));
    await chat?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it('refuses a foreign handshake Origin with connect_error "origin_not_allowed", on both transports', async () => {
    for (const transports of [['websocket'], ['polling']]) {
      const r = await tryConnect('tok-42', { transports, extraHeaders: { origin: 'https://evil.example' } });
      expect(r).toBeInstanceOf(Error);
      expect((r as Error).message).toBe('origin_not_allowed');
    }
    expect((await io.in('42').fetchSockets()).length).toBe(0);
  });

  it('accepts the same origin, a listed origin, and no Origin at all', async () => {
    for (const origin of [url, 'https://friends.example', undefined]) {
      const r = await tryConnect('tok-43', origin === undefined ? {} : { extraHeaders: { origin } });
      expect(r).not.toBeInstanceOf(Error);
      (r as ClientSocket).close();
    }
  });

  it('closes a socket when the session identify answered ends, and says why', async () => {
    const tab = (await tryConnect('short-42')) as ClientSocket;
    expect(tab.connected).toBe(true);
    const told = waitFor<{ reason: string }>(tab, 'session:closed', SHORT_MS + 3000);
    const gone = new Promise<string>((resolve) => tab.once('disconnect', resolve));
    expect(await told).toEqual({ reason: 'token_expired' });
    expect(await gone).toBe('io server disconnect');
  });

  it('keeps a socket whose identify answer says nothing about its end', async () => {
    const tab = (await tryConnect('tok-43')) as ClientSocket;
    const told = collect(tab, 'session:closed');
    await new Promise((r) => setTimeout(r, SHORT_MS + 500));
    expect(told).toEqual([]);
    expect(tab.connected).toBe(true);
  });

  it('accepts a session answer on HTTP too', async () => {
    const res = await fetch(`${url}/api/messages/sync`, { headers: { authorization: 'Bearer short-42' } });
    expect(res.status).toBe(200);
  });

  it('applies limits.socketsPerUser: a third tab closes the oldest, which is told why', async () => {
    const first = (await tryConnect('tok-42')) as ClientSocket;
    const second = (await tryConnect('tok-42')) as ClientSocket;
    const told = waitFor<{ reason: string }>(first, 'session:closed');
    const third = (await tryConnect('tok-42')) as ClientSocket;
    expect(await told).toEqual({ reason: 'too_many_sockets' });
    await quietPeriod();
    expect([first.connected, second.connected, third.connected]).toEqual([false, true, true]);
  });

  it('applies limits.socketEventsPerUserPerSecond across the user’s sockets', async () => {
    const tabs = [(await tryConnect('tok-43')) as ClientSocket, (await tryConnect('tok-43')) as ClientSocket];
    const acks = await Promise.all(tabs.flatMap((t) => [1, 2, 3].map(() => emitAck<{ ok: boolean; error?: { code: string } }>(t, 'chat:sync', {}))));
    expect(acks.filter((a) => a.ok)).toHaveLength(3);
    expect(acks.filter((a) => !a.ok).map((a) => a.error?.code)).toEqual(Array(3).fill('RATE_LIMITED'));
  });
});
