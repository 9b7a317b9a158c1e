// The project's own migrator: records what Prisma records (in the module's own schema), is
// idempotent, rolls back a failed migration, and applies each migration once when two
// processes start together.
import { mkdtempSync, mkdirSync, writeFileSync, cpSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, MigrationError, readMigrations, MIGRATIONS_DIR } from '../../backend/src/db/migrate.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

describe.each(dbTargets())('migrations on %s', (target) => {
  const open: Database[] = [];
  const dbs: TestDatabase[] = [];
  const closers: (() => Promise<void>)[] = [];
  const opts = { schema: 'friendchat' };
  async function fresh() {
    const t = await createTestDatabase(target);
    dbs.push(t);
    const pglite = t.url ? null : new PGlite();
    const db = await openDatabase(t.url ? { url: t.url } : { pglite: pglite! }, { schema: 'friendchat' });
    open.push(db);
    if (pglite) closers.push(() => pglite.close());
    return { t, db };
  }
  afterEach(async () => {
    for (const db of open.splice(0)) await db.close();
    for (const c of closers.splice(0)) await c();
    for (const t of dbs.splice(0)) await t.drop();
  });

  it('records each migration as Prisma does, and a second run applies nothing', async () => {
    const { db } = await fresh();
    const first = await migrate(db, opts);
    expect(first.applied).toEqual(readMigrations().map((m) => m.name));
    const second = await migrate(db, opts);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);

    const rows = await db.prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM friendchat."_prisma_migrations" ORDER BY migration_name`);
    const sql = readMigrations()[0]!.sql;
    expect(rows).toHaveLength(first.applied.length);
    expect(rows[0]).toMatchObject({
      migration_name: first.applied[0],
      checksum: createHash('sha256').update(sql).digest('hex'),
      logs: null,
      rolled_back_at: null,
      applied_steps_count: 1,
    });
    expect(rows[0]!.finished_at).toBeInstanceOf(Date);
    expect(rows[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('applies the migrations in order: groups, then rich messages, on a database already at groups with group messages in it', async () => {
    const names = readMigrations().map((m) => m.name);
    expect(names.indexOf('20261205000000_groups')).toBeGreaterThanOrEqual(0);
    expect(names.indexOf('20261205000000_groups')).toBeLessThan(names.indexOf('20261215000000_rich_messages'));
    const { db } = await fresh();
    const upToGroups = readMigrations().filter((m) => m.name <= '20261205000000_groups');
    expect((await migrate(db, { ...opts, migrations: upToGroups })).applied).toEqual(upToGroups.map((m) => m.name));
    const [g, m] = ['0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000002'];
    await db.sql(`INSERT INTO friendchat."Group" (id, name, "ownerId", "memberCount") VALUES ($1::uuid, 'Old group', 'u1', 1)`, [g]);
    await db.sql(`INSERT INTO friendchat."GroupMember" ("groupId", "userId", role) VALUES ($1::uuid, 'u1', 'owner')`, [g]);
    await db.sql(`INSERT INTO friendchat."Message" (id, "fromUserId", "groupId", content) VALUES ($1::uuid, 'u1', $2::uuid, 'before rich')`, [m, g]);

    const next = await migrate(db, opts);
    expect(next.applied).toEqual(names.filter((n) => n > '20261205000000_groups'));
    expect(next.applied).toContain('20261215000000_rich_messages');
    expect(await db.sql(`SELECT kind, "attachmentId", location, "groupId"::text AS "groupId", "toUserId" FROM friendchat."Message" WHERE id = $1::uuid`, [m])).toEqual([
      { kind: 'text', attachmentId: null, location: null, groupId: g, toUserId: null },
    ]);
    // A group message can now carry an upload; a group that goes takes its messages, and their
    // uploads are handed back as unsent (for the cleanup job).
    const a = '0190a000-0000-7000-8000-000000000003';
    await db.sql(
      `INSERT INTO friendchat."Attachment" (id, "uploaderId", kind, name, mime, size, "storageKey", "sentAt") VALUES ($1::uuid, 'u1', 'file', 'f', 'application/pdf', 1, 'k', now())`,
      [a],
    );
    await db.sql(`INSERT INTO friendchat."Message" (id, "fromUserId", "groupId", content, kind, "attachmentId") VALUES (gen_random_uuid(), 'u1', $1::uuid, '', 'file', $2::uuid)`, [g, a]);
    await db.sql(`DELETE FROM friendchat."Group" WHERE id = $1::uuid`, [g]);
    expect(await db.sql(`SELECT count(*)::int AS n FROM friendchat."Message" WHERE "groupId" = $1::uuid`, [g])).toEqual([{ n: 0 }]);
    expect(await db.sql(`SELECT "sentAt" FROM friendchat."Attachment" WHERE id = $1::uuid`, [a])).toEqual([{ sentAt: null }]);
  });

  it('rolls back a failing migration and reports which one failed', async () => {
    const { db } = await fresh();
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-mig-'));
    cpSync(MIGRATIONS_DIR, dir, { recursive: true });
    mkdirSync(path.join(dir, '29990101000000_broken'));
    writeFileSync(
      path.join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "HalfDone" (id int);\nALTER TABLE "NoSuchTable" ADD COLUMN x int;\n',
    );
    const err = await migrate(db, { ...opts, migrations: readMigrations(dir) }).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.message).toContain('29990101000000_broken');
    // The good migration stayed applied, the broken one left nothing behind.
    const tables = await db.prisma.$queryRawUnsafe<{ t: string }[]>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'friendchat'`,
    );
    const names = tables.map((r) => r.t);
    expect(names).toContain('Message');
    expect(names).not.toContain('HalfDone');
    const recorded = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(`SELECT migration_name FROM friendchat."_prisma_migrations"`);
    expect(recorded.map((r) => r.migration_name)).not.toContain('29990101000000_broken');
  });

  it.runIf(target === 'postgres')('applies each migration once when two processes migrate at the same time', async () => {
    const { t, db } = await fresh();
    const other = await openDatabase({ url: t.url! }, opts);
    open.push(other);
    const [a, b] = await Promise.all([migrate(db, opts), migrate(other, opts)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(readMigrations().map((m) => m.name));
    const rows = await db.prisma.$queryRawUnsafe<{ migration_name: string }[]>(`SELECT migration_name FROM friendchat."_prisma_migrations"`);
    expect(rows).toHaveLength(readMigrations().length);
  });
});
