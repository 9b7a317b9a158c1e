// Issue 11, point 7: the demo host's migration that makes usernames unique whatever their case,
// applied to a database that already holds users — two of them (and a third) differing only by
// case — keeps every account and its data, renames the later look-alikes deterministically, and
// from then on the database itself refuses a look-alike.
//
// In the host's history it sits between the round-1 `20261122000000_init` and
// `20261201000000_chat_moved_to_module`: on a round-1 database one start applies the module's
// copy of the chat data, then the rename, then the drop of the chat tables from public, and the
// renamed accounts' messages are the module's. A database that already dropped them (made by the
// module's version before this migration existed) gets the rename alone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, readMigrations, type SqlSession } from 'friend-chat/server';
import { HOST_MIGRATIONS_DIR } from '../../backend/src/host/db.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const MIGRATION = '20261123000000_username_case_insensitive';
const ROUND_1 = '20261122000000_init';
const CHAT_MOVED = '20261201000000_chat_moved_to_module';

// Users as the old code let them be: look-alikes by case, created one after the other.
const users: [string, string, string][] = [
  ['00000000-0000-4000-8000-000000000001', 'alice', '2026-01-01T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000002', 'Alice', '2026-01-02T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000003', 'alice-2', '2026-01-03T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000004', 'ALICE', '2026-01-04T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000005', 'bob', '2026-01-05T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000006', 'a'.repeat(32), '2026-01-06T00:00:00Z'],
  ['00000000-0000-4000-8000-000000000007', 'A'.repeat(32), '2026-01-07T00:00:00Z'],
];
const renamed = [
  { id: users[0]![0], username: 'alice', displayName: 'Display alice' },
  { id: users[1]![0], username: 'Alice-3', displayName: 'Display Alice' },
  { id: users[2]![0], username: 'alice-2', displayName: 'Display alice-2' },
  { id: users[3]![0], username: 'ALICE-4', displayName: 'Display ALICE' },
  { id: users[4]![0], username: 'bob', displayName: 'Display bob' },
  { id: users[5]![0], username: 'a'.repeat(32), displayName: `Display ${'a'.repeat(32)}` },
  { id: users[6]![0], username: `${'A'.repeat(30)}-2`, displayName: `Display ${'A'.repeat(32)}` },
];
const MESSAGE_ID = '00000000-0000-4000-8000-0000000000aa';

const hostMigrations = (names: string[]) => readMigrations(HOST_MIGRATIONS_DIR).filter((m) => names.includes(m.name));

async function insertUsers(session: SqlSession) {
  const hash = bcrypt.hashSync('password123', 4);
  for (const [id, username, createdAt] of users) {
    await session.query(`INSERT INTO "User" (id, username, "passwordHash", "displayName", "createdAt") VALUES ($1, $2, $3, $4, $5)`, [
      id,
      username,
      hash,
      `Display ${username}`,
      createdAt,
    ]);
  }
}

/** A round-1 database (only `init` in the host's history) with the look-alikes and a message from one of them. */
async function populateRound1(session: SqlSession) {
  expect(readMigrations(HOST_MIGRATIONS_DIR).map((m) => m.name)).toEqual([ROUND_1, MIGRATION, CHAT_MOVED]);
  await migrate({ session: async () => session }, { schema: 'public', migrations: hostMigrations([ROUND_1]) });
  await insertUsers(session);
  await session.query(`INSERT INTO "Message" (id, "fromUserId", "toUserId", content) VALUES ($1, $2, $3, 'hello from Alice')`, [
    MESSAGE_ID,
    users[1]![0],
    users[4]![0],
  ]);
}

describe.each(dbTargets())('case-insensitive usernames migration on %s', (target) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('upgrades a round-1 database in one start: renames later look-alikes, keeps their messages, signs them in', async () => {
    let tdb: TestDatabase;
    if (target === 'pglite') {
      const dir = mkdtempSync(path.join(tmpdir(), 'fc-username-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const pglite = new PGlite(path.join(dir, 'pglite'));
      await pglite.exec(`SET TIME ZONE 'UTC'`);
      const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
      await populateRound1({ exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} });
      await pglite.close();
      tdb = { url: undefined, pgliteDir: path.join(dir, 'pglite'), drop: async () => {} };
    } else {
      tdb = await createTestDatabase('postgres');
      cleanup.push(() => tdb.drop());
      const client = new pg.Client({ connectionString: tdb.url, options: '-c TimeZone=UTC' });
      await client.connect();
      try {
        await populateRound1({
          exec: async (sql) => void (await client.query(sql)),
          query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
          release: async () => {},
        });
      } finally {
        await client.end();
      }
    }

    const s: TestServer = await startServer({ target, database: tdb });
    cleanup.push(() => s.close());
    const db = s.app.db;

    const history = (await db.sql<{ n: string }>(`SELECT migration_name AS n FROM public._prisma_migrations ORDER BY started_at, migration_name`)).map(
      (r) => r.n,
    );
    expect(history).toEqual([ROUND_1, MIGRATION, CHAT_MOVED]);
    const rows = await db.sql<{ id: string; username: string; displayName: string }>(
      `SELECT id::text AS id, username, "displayName" FROM public."User" ORDER BY "createdAt"`,
    );
    expect(rows).toEqual(renamed);

    // The renamed account's message moved to the module and is still theirs; public has no chat table left.
    const publicTables = (await db.sql<{ n: string }>(`SELECT table_name AS n FROM information_schema.tables WHERE table_schema = 'public'`)).map(
      (r) => r.n,
    );
    expect(publicTables).not.toContain('Message');
    const messages = await db.sql<{ from: string; content: string }>(`SELECT "fromUserId"::text AS from, content FROM friendchat."Message"`);
    expect(messages).toEqual([{ from: users[1]![0], content: 'hello from Alice' }]);

    // The database refuses a look-alike from now on, whoever writes it.
    await expect(
      db.sql(`INSERT INTO public."User" (id, username, "passwordHash", "displayName") VALUES (gen_random_uuid(), 'BOB', 'x', 'x')`),
    ).rejects.toThrow(/unique|duplicate/i);

    // Each account signs in, by any case of its (new) name, and sees its conversation.
    for (const [spelling, id] of [
      ['ALICE', users[0]![0]],
      ['alice-3', users[1]![0]],
      ['Alice-2', users[2]![0]],
      ['alice-4', users[3]![0]],
    ] as const) {
      const r = await s.request('POST', '/api/auth/login', { body: { username: spelling, password: 'password123' } });
      expect(r.status).toBe(200);
      expect(r.body.user.id).toBe(id);
    }
    const bob = await s.request('POST', '/api/auth/login', { body: { username: 'BOB', password: 'password123' } });
    const history1 = await s.request('GET', `/api/messages/${users[1]![0]}`, { token: bob.body.token });
    expect(history1.body.messages.map((m: { id: string; content: string }) => [m.id, m.content])).toEqual([[MESSAGE_ID, 'hello from Alice']]);
    const taken = await s.request('POST', '/api/auth/register', { body: { username: 'Bob', password: 'password123' } });
    expect(taken.status).toBe(409);
    // Two databases and an app: slow on a busy 2-core machine, and a timeout mid-start would
    // close the database under the starting app.
  }, 180_000);

  it('applies to a database whose chat tables were already moved out of public', async () => {
    const tdb = await createTestDatabase(target);
    cleanup.push(() => tdb.drop());
    let session: SqlSession;
    if (target === 'pglite') {
      const pglite = new PGlite();
      cleanup.push(() => pglite.close());
      const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
      session = { exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} };
    } else {
      const client = new pg.Client({ connectionString: tdb.url });
      await client.connect();
      cleanup.push(() => client.end());
      session = {
        exec: async (sql) => void (await client.query(sql)),
        query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        release: async () => {},
      };
    }
    const db = { session: async () => session };
    await migrate(db, { schema: 'public', migrations: hostMigrations([ROUND_1, CHAT_MOVED]) });
    await insertUsers(session);

    const result = await migrate(db, { schema: 'public', migrations: readMigrations(HOST_MIGRATIONS_DIR) });
    expect(result).toEqual({ applied: [MIGRATION], alreadyApplied: [ROUND_1, CHAT_MOVED] });
    expect(await session.query(`SELECT id::text AS id, username, "displayName" FROM "User" ORDER BY "createdAt"`)).toEqual(renamed);
    await expect(session.query(`INSERT INTO "User" (id, username, "passwordHash", "displayName") VALUES (gen_random_uuid(), 'BOB', 'x', 'x')`)).rejects.toThrow(
      /unique|duplicate/i,
    );
  }, 60_000);
});
