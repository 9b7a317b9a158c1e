// Starts a real app (HTTP + Socket.IO) on port 0 over a fresh database, with small helpers
// to register users, make them friends and connect real socket.io-client clients.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { io as ioClient, type Socket } from 'socket.io-client';
import { loadConfig, type Config } from '../../backend/src/config.ts';
import { createApp, type App, type AppOptions } from '../../backend/src/app.ts';
import type { ClientToServerEvents, PublicUser, ServerToClientEvents } from '../../backend/src/realtime/events.ts';
import { createTestDatabase, type DbTarget, type TestDatabase } from './db.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface TestUser extends PublicUser {
  token: string;
}

export interface TestServer {
  app: App;
  url: string;
  target: DbTarget;
  /** JSON request; answers status and parsed body (loosely typed: tests assert on its shape). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  request(method: string, path: string, opts?: { token?: string; body?: unknown; raw?: string }): Promise<{ status: number; body: any }>;
  register(username?: string): Promise<TestUser>;
  follow(a: TestUser, b: TestUser): Promise<void>;
  makeFriends(a: TestUser, b: TestUser): Promise<void>;
  connect(user: TestUser | string): Promise<ClientSocket>;
  close(): Promise<void>;
}

export interface StartOptions {
  target?: DbTarget;
  config?: Partial<Config>;
  app?: AppOptions;
  /** Reuse a database created by the caller (several nodes on one database). */
  database?: TestDatabase;
}

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const target = opts.target ?? 'pglite';
  const database = opts.database ?? (await createTestDatabase(target));
  // Uploads in a directory of this server's own, removed with it (unless the caller gave one).
  const ownUploadDir = opts.config?.uploadDir ? null : mkdtempSync(path.join(tmpdir(), 'fc-uploads-'));
  const config = loadConfig(
    {},
    {
      databaseUrl: database.url,
      pgliteDir: database.pgliteDir,
      jwtSecret: 'test-secret-test-secret-0123456789',
      bcryptRounds: 4,
      logLevel: 'silent',
      chatRateLimit: 1000,
      loginRateLimit: 1000,
      followRateLimit: 1000,
      loginAddressRateLimit: 100_000,
      loginUsernameRateLimit: 100_000,
      registerRateLimit: 100_000,
      // Tests open many sockets from one address and send events fast; the tests of these
      // limits set them lower.
      socketEventRate: 1000,
      maxSocketsPerUser: 100,
      maxSocketsPerAddress: 1000,
      uploadDir: ownUploadDir ?? undefined,
      ...opts.config,
    },
  );
  const app = await createApp(config, { seed: false, staticDir: null, ...opts.app });
  const url = await app.listen(0, '127.0.0.1');
  const sockets: ClientSocket[] = [];

  async function request(method: string, path: string, o: { token?: string; body?: unknown; raw?: string } = {}) {
    const headers: Record<string, string> = {};
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body)) });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = text;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: res.status, body: body as any };
  }

  async function register(username = `u${randomBytes(5).toString('hex')}`): Promise<TestUser> {
    const r = await request('POST', '/api/auth/register', { body: { username, password: 'password123' } });
    if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
    return { ...r.body.user, token: r.body.token };
  }

  async function follow(a: TestUser, b: TestUser) {
    const r = await request('POST', `/api/follows/${b.id}`, { token: a.token });
    if (r.status !== 201) throw new Error(`follow failed: ${r.status} ${JSON.stringify(r.body)}`);
  }

  async function connect(user: TestUser | string): Promise<ClientSocket> {
    const token = typeof user === 'string' ? user : user.token;
    const socket: ClientSocket = ioClient(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => reject(err));
    });
    return socket;
  }

  return {
    app,
    url,
    target,
    request,
    register,
    follow,
    async makeFriends(a, b) {
      await follow(a, b);
      await follow(b, a);
    },
    connect,
    async close() {
      for (const s of sockets) s.disconnect();
      await app.close();
      if (!opts.database) await database.drop();
      if (ownUploadDir) rmSync(ownUploadDir, { recursive: true, force: true });
    },
  };
}
