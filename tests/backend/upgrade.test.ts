// A database made by the previous version (everything in `public`, `20261122000000_init`
// recorded there) upgrades in place on the next start: the chat module's migration copies the
// messages and lastSeenAt into its own schema, the demo host's migration drops them from
// public, and users, logins, messages, notifications, read state, history and sync are kept.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, readMigrations, type SqlSession } from 'friend-chat/server';
import { HOST_MIGRATIONS_DIR } from '../../backend/src/host/db.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const ROUND_1 = '20261122000000_init';
const [alice, bob, carol] = [randomUUID(), randomUUID(), randomUUID()];
const ids = { chatRead: randomUUID(), chatUnread: randomUUID(), chatDeleted: randomUUID(), system: randomUUID(), systemRead: randomUUID() };
const t = (minute: number) => new Date(Date.UTC(2026, 0, 2, 3, minute)).toISOString();

/** The round-1 database: the round-1 migration and its record, three users, a friendship, messages of every kind. */
async function populateRound1(session: SqlSession) {
  const migrations = readMigrations(HOST_MIGRATIONS_DIR).filter((m) => m.name === ROUND_1);
  expect(migrations).toHaveLength(1);
  await migrate({ session: async () => session }, { schema: 'public', migrations });
  const hash = await bcrypt.hash('password123', 4);
  for (const [id, name, seen] of [
    [alice, 'alice', t(50)],
    [bob, 'bob', null],
    [carol, 'carol', null],
  ] as const) {
    await session.query(`INSERT INTO "User" (id, username, "passwordHash", "displayName", "lastSeenAt") VALUES ($1, $2, $3, $4, $5)`, [
      id,
      name,
      hash,
      name.toUpperCase(),
      seen,
    ]);
  }
  await session.query(`INSERT INTO "Follow" ("followerId", "followeeId") VALUES ($1, $2), ($2, $1)`, [alice, bob]);
  const msg = `INSERT INTO "Message" (id, "fromUserId", "toUserId", "messageType", content, metadata, "clientId", "isRead", "readAt", "createdAt", "deletedAt")
               VALUES ($1, $2, $3, $4::"MessageType", $5, $6::jsonb, $7, $8, $9, $10, $11)`;
  await session.query(msg, [ids.chatRead, alice, bob, 'CHAT', 'hi bob', '{}', 'c-1', true, t(2), t(1), null]);
  await session.query(msg, [ids.chatUnread, bob, alice, 'CHAT', 'hi alice', '{}', 'c-2', false, null, t(3), null]);
  await session.query(msg, [ids.chatDeleted, alice, bob, 'CHAT', 'oops', '{}', 'c-3', false, null, t(4), t(5)]);
  const follower = JSON.stringify({ follower: { id: alice, username: 'alice', displayName: 'ALICE', avatarUrl: null } });
  await session.query(msg, [ids.system, null, bob, 'SYSTEM_FOLLOW', 'ALICE started following you', follower, null, false, null, t(6), null]);
  await session.query(msg, [ids.systemRead, null, alice, 'SYSTEM_TASK', 'Task completed', '{"task":{"id":"x","title":"T"},"reward":1}', null, true, t(8), t(7), null]);
}

describe.each(dbTargets())('upgrading a round-1 database in place on %s', (target) => {
  let s: TestServer;
  let tdb: TestDatabase;
  let dir: string | null = null;
  const login = async (username: string) => (await s.request('POST', '/api/auth/login', { body: { username, password: 'password123' } })).body;

  beforeAll(async () => {
    if (target === 'pglite') {
      dir = mkdtempSync(path.join(tmpdir(), 'fc-upgrade-'));
      const pglite = new PGlite(path.join(dir, 'pglite'));
      await pglite.exec(`SET TIME ZONE 'UTC'`);
      const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
      await populateRound1({ exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} });
      await pglite.close();
      tdb = { url: undefined, pgliteDir: path.join(dir, 'pglite'), drop: async () => {} };
    } else {
      tdb = await createTestDatabase('postgres');
      const client = new pg.Client({ connectionString: tdb.url, options: '-c TimeZone=UTC' });
      await client.connect();
      await populateRound1({
        exec: async (sql) => void (await client.query(sql)),
        query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        release: async () => {},
      });
      await client.end();
    }
    s = await startServer({ target, database: tdb });
    // Two databases opened one after the other (PGlite: two instances, slow on a busy machine).
  }, 180_000);
  afterAll(async () => {
    await s?.close();
    await tdb?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the demo’s users and their logins', async () => {
    for (const name of ['alice', 'bob', 'carol']) expect((await login(name)).user.username).toBe(name);
  });

  it('keeps chat history, read state and deletions, and unread counts', async () => {
    const a = await login('alice');
    const history = (await s.request('GET', `/api/messages/${bob}`, { token: a.token })).body;
    expect(history.messages.map((m: { id: string; isRead: boolean }) => [m.id, m.isRead])).toEqual([
      [ids.chatRead, true],
      [ids.chatUnread, false],
    ]);
    expect(history.messages[0]).toMatchObject({ fromUserId: alice, toUserId: bob, clientId: 'c-1', readAt: t(2), createdAt: t(1) });
    expect((await s.request('GET', '/api/messages/unread/count', { token: a.token })).body).toEqual({ total: 1, byPeer: { [bob]: 1 }, byGroup: {}, system: 0, muted: { users: [], groups: [] } });
    const b = await login('bob');
    expect((await s.request('GET', '/api/messages/unread/count', { token: b.token })).body).toEqual({ total: 0, byPeer: {}, byGroup: {}, system: 1, muted: { users: [], groups: [] } });
    // A resend of a stored clientId still answers the first message.
    const again = await s.request('POST', `/api/messages/${bob}`, { token: a.token, body: { content: 'hi bob', clientId: 'c-1' } });
    expect(again.body.message.id).toBe(ids.chatRead);
  });

  it('keeps notifications, and sync hands out everything, the recalled one without content, in change order', async () => {
    const b = await login('bob');
    const list = (await s.request('GET', '/api/messages/system/list', { token: b.token })).body;
    expect(list.messages).toEqual([
      expect.objectContaining({ id: ids.system, messageType: 'SYSTEM_FOLLOW', isRead: false, metadata: { follower: expect.objectContaining({ id: alice }) } }),
    ]);
    const sync = (await s.request('GET', '/api/messages/sync', { token: b.token })).body;
    // Changed last: read at t(2), created at t(3), recalled at t(5), created at t(6).
    expect(sync.messages.map((m: { id: string }) => m.id)).toEqual([ids.chatRead, ids.chatUnread, ids.chatDeleted, ids.system]);
    expect(sync.messages[2]).toMatchObject({ content: '', deletedAt: t(5) });
  });

  it('keeps lastSeenAt and the friendship', async () => {
    const b = await login('bob');
    const friends = (await s.request('GET', '/api/friends', { token: b.token })).body.friends;
    expect(friends).toEqual([expect.objectContaining({ user: expect.objectContaining({ id: alice }), lastSeenAt: t(50), unread: 0 })]);
  });

  it('leaves no chat table in public, and records both histories', async () => {
    const db = s.app.db;
    const publicTables = (await db.sql<{ n: string }>(`SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public'`)).map((r) => r.n);
    expect(publicTables).not.toContain('Message');
    const hostHistory = (await db.sql<{ n: string }>(`SELECT migration_name AS n FROM public._prisma_migrations ORDER BY 1`)).map((r) => r.n);
    expect(hostHistory).toEqual(readMigrations(HOST_MIGRATIONS_DIR).map((m) => m.name));
    const moduleHistory = (await db.sql<{ n: string }>(`SELECT migration_name AS n FROM friendchat._prisma_migrations ORDER BY 1`)).map((r) => r.n);
    expect(moduleHistory).toEqual(readMigrations().map((m) => m.name));
  });
});

describe('a host’s own table called "Message"', () => {
  it('is neither read nor dropped by the module’s migration', async () => {
    const pglite = new PGlite();
    try {
      await pglite.exec(`CREATE TABLE "Message" (id int PRIMARY KEY, body text); INSERT INTO "Message" VALUES (1, 'theirs');`);
      const { openDatabase } = await import('../../backend/src/db/database.ts');
      const db = await openDatabase({ pglite }, { schema: 'friendchat' });
      await migrate(db, { schema: 'friendchat' });
      expect(await db.sql(`SELECT * FROM public."Message"`)).toEqual([{ id: 1, body: 'theirs' }]);
      expect(await db.sql(`SELECT count(*)::int AS n FROM friendchat."Message"`)).toEqual([{ n: 0 }]);
      await db.close();
    } finally {
      await pglite.close();
    }
  });
});
