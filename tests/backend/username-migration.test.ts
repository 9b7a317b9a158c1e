// Issue 11, point 7: the migration that makes usernames unique whatever their case, applied to a
// database that already holds users — two of them (and a third) differing only by case — keeps
// every account and its data, renames the later look-alikes deterministically, and from then
// on the database itself refuses a look-alike.
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, readMigrations } from '../../backend/src/db/migrate.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';

const MIGRATION = '20261123000000_username_case_insensitive';

describe.each(dbTargets())('case-insensitive usernames migration on %s', (target) => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('keeps users created before it, renaming later look-alikes, and signs them in', async () => {
    const tdb: TestDatabase = await createTestDatabase(target);
    cleanup.push(() => tdb.drop());
    const db: Database = await openDatabase({ databaseUrl: tdb.url, pgliteDir: tdb.pgliteDir });
    cleanup.push(() => db.close());

    const all = readMigrations();
    const before = all.filter((m) => m.name < MIGRATION);
    expect(all.map((m) => m.name)).toContain(MIGRATION);
    await migrate(db, before);

    // Users as the old code let them be: look-alikes by case, created one after the other.
    const hash = bcrypt.hashSync('password123', 4);
    const users: [string, string, string][] = [
      ['00000000-0000-4000-8000-000000000001', 'alice', '2026-01-01T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000002', 'Alice', '2026-01-02T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000003', 'alice-2', '2026-01-03T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000004', 'ALICE', '2026-01-04T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000005', 'bob', '2026-01-05T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000006', 'a'.repeat(32), '2026-01-06T00:00:00Z'],
      ['00000000-0000-4000-8000-000000000007', 'A'.repeat(32), '2026-01-07T00:00:00Z'],
    ];
    for (const [id, username, createdAt] of users) {
      await db.sql(`INSERT INTO "User" (id, username, "passwordHash", "displayName", "createdAt") VALUES ($1, $2, $3, $4, $5)`, [
        id,
        username,
        hash,
        `Display ${username}`,
        createdAt,
      ]);
    }
    await db.sql(`INSERT INTO "Message" (id, "fromUserId", "toUserId", content) VALUES ($1, $2, $3, 'hello from Alice')`, [
      '00000000-0000-4000-8000-0000000000aa',
      users[1]![0],
      users[4]![0],
    ]);

    const result = await migrate(db);
    expect(result.applied).toEqual(all.filter((m) => m.name >= MIGRATION).map((m) => m.name));

    const rows = await db.sql<{ id: string; username: string; displayName: string }>(
      `SELECT id::text AS id, username, "displayName" FROM "User" ORDER BY "createdAt"`,
    );
    expect(rows).toEqual([
      { id: users[0]![0], username: 'alice', displayName: 'Display alice' },
      { id: users[1]![0], username: 'Alice-3', displayName: 'Display Alice' },
      { id: users[2]![0], username: 'alice-2', displayName: 'Display alice-2' },
      { id: users[3]![0], username: 'ALICE-4', displayName: 'Display ALICE' },
      { id: users[4]![0], username: 'bob', displayName: 'Display bob' },
      { id: users[5]![0], username: 'a'.repeat(32), displayName: `Display ${'a'.repeat(32)}` },
      { id: users[6]![0], username: `${'A'.repeat(30)}-2`, displayName: `Display ${'A'.repeat(32)}` },
    ]);
    const messages = await db.sql<{ from: string; content: string }>(`SELECT "fromUserId"::text AS from, content FROM "Message"`);
    expect(messages).toEqual([{ from: users[1]![0], content: 'hello from Alice' }]);

    // The database refuses a look-alike from now on, whoever writes it.
    await expect(db.sql(`INSERT INTO "User" (id, username, "passwordHash", "displayName") VALUES (gen_random_uuid(), 'BOB', 'x', 'x')`)).rejects.toThrow(
      /unique|duplicate/i,
    );

    // The app on that database: each account signs in, by any case of its (new) name.
    const s: TestServer = await startServer({ target, app: { db, migrate: false } });
    cleanup.push(() => s.close());
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
    const taken = await s.request('POST', '/api/auth/register', { body: { username: 'Bob', password: 'password123' } });
    expect(taken.status).toBe(409);
    // Two databases and an app: slow on a busy 2-core machine, and a timeout mid-start would
    // close the database under the starting app.
  }, 120_000);
});
