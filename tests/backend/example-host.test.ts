// The second host, examples/express-host, as a stranger runs it: the module built and packed
// (`npm run build:package`, `npm pack`), the tarball installed with the example's own
// dependencies into a temporary copy of it, the example started with plain `node server.js` (no
// TypeScript loader) on PGlite and, with DATABASE_URL, on a fresh PostgreSQL database. Real
// socket.io-client clients on its '/chat' namespace; a real browser on its page when Chromium
// is installed.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UnreadCounts, WireMessage } from 'friend-chat/server';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import type { ClientSocket } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';
import { CHROMIUM, launchBrowser } from '../helpers/browser.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const EXAMPLE = path.join(ROOT, 'examples/express-host');
const SETUP_MS = 15 * 60_000;

/** The environment of a stranger's shell: nothing of an `npm test` around us (npm_config_local_prefix and the like). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  return { ...env, NODE_ENV: 'development', ...extra };
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}:\n${out}`))));
  });
}

interface Example {
  url: string;
  stop(): Promise<void>;
}

function startExample(dir: string, env: Record<string, string>): Promise<Example> {
  const child: ChildProcess = spawn(process.execPath, ['server.js'], { cwd: dir, env: cleanEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the example did not start in time:\n${out}`)), 120_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[1]!,
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the example exited with ${code}:\n${out}`));
    });
  });
}

let work: string;
let exampleDir: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'fc-example-'));
  // What goes into the tarball: dist/server and dist/vue (`npm run build` also builds the demo's
  // pages, which the package does not carry and the browser tests serve).
  await run('npm', ['run', 'build:package', '--silent'], ROOT);
  await run('npm', ['pack', '--pack-destination', work], ROOT);
  const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const tarball = path.join(work, `friend-chat-${version}.tgz`);
  expect(existsSync(tarball)).toBe(true);

  exampleDir = path.join(work, 'express-host');
  cpSync(EXAMPLE, exampleDir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist|data)$/.test(src) });
  const pkgFile = path.join(exampleDir, 'package.json');
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { dependencies: Record<string, string> };
  pkg.dependencies['friend-chat'] = `file:${tarball}`;
  writeFileSync(pkgFile, JSON.stringify(pkg, null, 2));
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], exampleDir);
  await run('npm', ['run', 'build', '--silent'], exampleDir);
}, SETUP_MS);

// The copy holds the example's whole node_modules: on a loaded machine deleting it took over
// the default 60 s hook timeout (seen with a load average of 16).
afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
}, SETUP_MS);

describe.each(dbTargets())('examples/express-host on %s', (target) => {
  let tdb: TestDatabase;
  let example: Example;
  const sockets: ClientSocket[] = [];
  const users: Record<'ada' | 'bo' | 'cy', { token: string; id: string }> = {} as never;

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    example = await startExample(exampleDir, {
      DATABASE_URL: tdb.url ?? '',
      PGLITE_DIR: 'memory://',
      JWT_SECRET: randomBytes(24).toString('hex'),
    });
    for (const name of ['ada', 'bo', 'cy'] as const) {
      const r = await request('POST', '/api/login', undefined, { username: name, password: 'password123' });
      expect(r.status).toBe(200);
      users[name] = { token: r.body.token, id: r.body.user.id };
    }
  }, SETUP_MS);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await example?.stop();
    await tdb?.drop();
  });

  async function request(method: string, urlPath: string, token?: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(example.url + urlPath, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  function connect(token: string | null, nsp = '/chat'): Promise<ClientSocket> {
    const socket: ClientSocket = ioClient(example.url + nsp, {
      auth: token ? { token } : {},
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(err));
    });
  }

  it('gives the host’s integer ids to the module as strings', () => {
    expect([users.ada.id, users.bo.id, users.cy.id]).toEqual(['1', '2', '3']);
  });

  it('lets two friends chat live over the host’s Socket.IO server', async () => {
    const [ada, bo] = [await connect(users.ada.token), await connect(users.bo.token)];
    const toBo = waitFor<{ message: WireMessage }>(bo, 'chat:message');
    const ack = await emitAck(ada, 'chat:send', { to: users.bo.id, content: 'Hello Bo', clientId: randomUUID() });
    expect(ack.ok).toBe(true);
    expect((await toBo).message).toMatchObject({ fromUserId: '1', toUserId: '2', content: 'Hello Bo', messageType: 'CHAT' });

    const toAda = waitFor<{ message: WireMessage }>(ada, 'chat:message', 5000, (p) => p.message.fromUserId === '2');
    expect((await emitAck(bo, 'chat:send', { to: users.ada.id, content: 'Hi Ada', clientId: randomUUID() })).ok).toBe(true);
    expect((await toAda).message.content).toBe('Hi Ada');

    const history = await request('GET', `/api/messages/${users.ada.id}`, users.bo.token);
    expect(history.body.messages.map((m: WireMessage) => m.content)).toEqual(['Hello Bo', 'Hi Ada']);
  });

  it('refuses a message to someone who is not a friend with NOT_FRIENDS', async () => {
    const ada = await connect(users.ada.token);
    const ack = await emitAck(ada, 'chat:send', { to: users.cy.id, content: 'Hi Cy', clientId: randomUUID() });
    expect(ack.ok).toBe(false);
    expect(ack.error.code).toBe('NOT_FRIENDS');
    const http = await request('POST', `/api/messages/${users.cy.id}`, users.ada.token, { content: 'Hi Cy' });
    expect(http.status).toBe(403);
    expect(http.body.error.code).toBe('NOT_FRIENDS');
  });

  it('refuses a token the host did not sign', async () => {
    await expect(connect('not-a-jwt')).rejects.toMatchObject({ message: 'unauthorized' });
    expect((await request('GET', '/api/messages/unread/count', 'not-a-jwt')).status).toBe(401);
  });

  it('delivers the host’s SYSTEM_LIKE: pushed, listed and counted', async () => {
    const bo = await connect(users.bo.token);
    const pushed = waitFor<{ message: WireMessage }>(bo, 'notification:new');
    const counted = waitFor<UnreadCounts>(bo, 'unread:update', 5000, (c) => c.system === 1);
    const liked = await request('POST', `/api/users/${users.bo.id}/like`, users.ada.token);
    expect(liked.status).toBe(201);
    const message = (await pushed).message;
    expect(message).toMatchObject({
      toUserId: '2',
      fromUserId: null,
      messageType: 'SYSTEM_LIKE',
      content: 'Ada Lovelace liked your profile',
      metadata: { from: { id: '1', username: 'ada', displayName: 'Ada Lovelace', avatarUrl: null } },
    });
    expect((await counted).system).toBe(1);
    const list = await request('GET', '/api/messages/system/list', users.bo.token);
    expect(list.body.messages).toEqual([message]);
    const count = await request('GET', '/api/messages/unread/count', users.bo.token);
    expect(count.body.system).toBe(1);
  });

  it('makes friends in the host’s transaction: SYSTEM_FRIEND arrives and the two can chat at once', async () => {
    const [ada, cy] = [await connect(users.ada.token), await connect(users.cy.token)];
    const pushed = waitFor<{ message: WireMessage }>(cy, 'notification:new');
    expect((await request('PUT', `/api/friendships/${users.cy.id}`, users.ada.token)).status).toBe(200);
    expect((await pushed).message).toMatchObject({ messageType: 'SYSTEM_FRIEND', metadata: { friend: { id: '1' } } });
    const toCy = waitFor<{ message: WireMessage }>(cy, 'chat:message');
    expect((await emitAck(ada, 'chat:send', { to: users.cy.id, content: 'Friends now', clientId: randomUUID() })).ok).toBe(true);
    expect((await toCy).message.content).toBe('Friends now');

    expect((await request('DELETE', `/api/friendships/${users.cy.id}`, users.ada.token)).status).toBe(204);
    const again = await emitAck(ada, 'chat:send', { to: users.cy.id, content: 'Still?', clientId: randomUUID() });
    expect(again.error.code).toBe('NOT_FRIENDS');
  });

  it('keeps the host’s own use of its Socket.IO server on "/"', async () => {
    const visitor = ioClient(example.url, { transports: ['websocket'], reconnection: false, forceNew: true }) as ClientSocket;
    sockets.push(visitor);
    expect(await waitFor<number>(visitor, 'visitors')).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(target !== 'postgres')('leaves the host’s public schema to the host’s own tables', async () => {
    const client = new pg.Client({ connectionString: tdb.url });
    await client.connect();
    try {
      const tables = async (schema: string) =>
        (await client.query<{ t: string }>('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])).rows.map((r) => r.t);
      expect(await tables('public')).toEqual(['friendships', 'likes', 'users']);
      expect(await tables('friendchat')).toEqual(['Attachment', 'Delivery', 'Group', 'GroupMember', 'HookOutbox', 'Message', 'ModuleSecret', 'Mute', 'Reaction', 'UnreadCount', 'UserPresence', '_prisma_migrations']);
    } finally {
      await client.end();
    }
  });

  it.skipIf(target !== 'pglite' || !existsSync(CHROMIUM))(
    'shows the page: sign in, friends with chat buttons, the bell, a chat window that sends',
    async () => {
      const browser = await launchBrowser();
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 720 } });
        await page.goto(example.url);
        await page.getByTestId('login-bo').click();
        await page.getByTestId('me').waitFor();
        expect(await page.getByTestId('me').textContent()).toBe('Bo Peep');
        // bo's friends: Ada and Cy (ada and cy stopped being friends above; bo–cy is seeded).
        await page.getByTestId('friend-ada').waitFor();
        await page.getByTestId('friend-cy').waitFor();
        const ada = await connect(users.ada.token);
        const arrived = waitFor<{ message: WireMessage }>(ada, 'chat:message', 10_000);
        await page.getByTestId('friend-ada').getByTestId('friend-chat-button').click();
        await page.getByTestId('chat-window').waitFor();
        await page.getByTestId('chat-input').fill('Sent from the example page');
        await page.getByTestId('chat-send').click();
        expect((await arrived).message).toMatchObject({ fromUserId: '2', content: 'Sent from the example page' });
        await page.getByTestId('message-bubble').first().waitFor();
        const shots = path.join(ROOT, 'test-results');
        mkdirSync(shots, { recursive: true });
        await page.screenshot({ path: path.join(shots, 'example-host.png') });
      } finally {
        await browser.close();
      }
    },
    120_000,
  );

  // Last: Cy is gone afterwards.
  it('announces presence to friends through the host’s friend lists (friendIdsMany)', async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await new Promise((r) => setTimeout(r, 500)); // those disconnects announced first
    const bo = await connect(users.bo.token);
    type Presence = { userId: string; online: boolean; lastSeenAt: string };
    const cyOnline = waitFor<Presence>(bo, 'presence:update', 5000, (p) => p.userId === users.cy.id && p.online);
    const cy = await connect(users.cy.token);
    expect(await cyOnline).toMatchObject({ userId: '3', online: true });
    const cyOffline = waitFor<Presence>(bo, 'presence:update', 5000, (p) => p.userId === users.cy.id && !p.online);
    cy.disconnect();
    expect(await cyOffline).toMatchObject({ userId: '3', online: false });
    // Both of bo's friends (ada, whose sockets were closed above, and cy) are offline now.
    const online = await emitAck(bo, 'presence:list', {});
    expect(online).toMatchObject({ ok: true, online: [] });
  });

  it('deletes an account: the module closes its sockets and forgets it, its friend keeps the conversation', async () => {
    const [bo, cy] = [await connect(users.bo.token), await connect(users.cy.token)];
    const toBo = waitFor<{ message: WireMessage }>(bo, 'chat:message', 5000, (p) => p.message.fromUserId === users.cy.id);
    expect((await emitAck(cy, 'chat:send', { to: users.bo.id, content: 'Leaving, bye Bo', clientId: randomUUID() })).ok).toBe(true);
    await toBo;
    const closed = waitFor<{ reason: string }>(cy, 'session:closed');

    expect((await request('DELETE', '/api/me', users.cy.token)).status).toBe(204);

    expect(await closed).toEqual({ reason: 'user_deleted' });
    expect((await request('GET', '/api/me', users.cy.token)).status).toBe(401);
    expect((await request('GET', '/api/messages/unread/count', users.cy.token)).status).toBe(401);
    await expect(connect(users.cy.token)).rejects.toMatchObject({ message: 'unauthorized' });
    const { conversations } = (await request('GET', '/api/messages/conversations/list', users.bo.token)).body;
    const gone = conversations.find((c: { peer: { deleted?: boolean } }) => c.peer.deleted);
    expect(gone).toMatchObject({ peer: { displayName: 'Deleted user', deleted: true }, lastMessage: { content: 'Leaving, bye Bo' } });
    const history = await request('GET', `/api/messages/${encodeURIComponent(gone.peer.id)}`, users.bo.token);
    expect(history.body.messages.map((m: WireMessage) => m.content)).toContain('Leaving, bye Bo');
    const friends = await request('GET', '/api/friends', users.bo.token);
    expect(friends.body.friends.map((f: { user: { id: string } }) => f.user.id)).toEqual([users.ada.id]);
    if (tdb.url) {
      const client = new pg.Client({ connectionString: tdb.url });
      await client.connect();
      try {
        const left = await client.query('SELECT count(*)::int AS n FROM friendchat."Message" WHERE "fromUserId" = $1 OR "toUserId" = $1', [users.cy.id]);
        expect(left.rows[0].n).toBe(0);
      } finally {
        await client.end();
      }
    }
  });
});
