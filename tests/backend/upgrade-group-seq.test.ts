// Upgrading a database with groups in it to the numbered group messages (migration
// 20261206000000_group_read_seq): every migration before it applied, groups, members, read
// positions, chat messages (recalled ones, own ones, two at the same instant) and notices
// stored; then the migration. Each member's unread count is the same before (counted over the
// messages, as the previous version did) and after (from the numbers), and new messages go on
// from the numbers the backfill gave.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, readMigrations } from '../../backend/src/db/migrate.ts';
import { createMessageWriter } from '../../backend/src/chat/writer.ts';
import { unreadSql } from '../../backend/src/groups/seq.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

const MIGRATION = '20261206000000_group_read_seq';
const [g1, g2] = ['0190b000-0000-7000-8000-000000000001', '0190b000-0000-7000-8000-000000000002'];
const t = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
let n = 0;
const id = () => `0190b000-0000-7000-8000-1000000000${String(++n).padStart(2, '0')}`;

describe.each(dbTargets())('upgrading a database with groups to numbered messages on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let db: Database;
  const opts = { schema: 'friendchat' };
  const sql = <T = Record<string, unknown>,>(text: string, params: unknown[] = []) => db.sql<T>(text.replaceAll('fc.', 'friendchat.'), params);
  /** Unread per current member of the group, counted over the messages as the previous version did. */
  const countedOverMessages = (groupId: string) =>
    sql<{ userId: string; n: number }>(
      `SELECT gm."userId", (SELECT count(*)::int FROM fc."Message" m
          WHERE m."groupId" = gm."groupId" AND m."createdAt" > gm."readAt" AND m."messageType" = 'CHAT'
            AND m."deletedAt" IS NULL AND m."fromUserId" <> gm."userId") AS n
       FROM fc."GroupMember" gm WHERE gm."groupId" = $1::uuid AND gm."leftAt" IS NULL ORDER BY gm."userId"`,
      [groupId],
    );
  /** The same from the numbers, as chat/unread.ts counts now. */
  const countedFromNumbers = (groupId: string) =>
    sql<{ userId: string; n: number }>(
      `SELECT gm."userId", ${unreadSql('friendchat."Message"')} AS n
       FROM fc."GroupMember" gm JOIN fc."Group" g ON g.id = gm."groupId"
       WHERE gm."groupId" = $1::uuid AND gm."leftAt" IS NULL ORDER BY gm."userId"`,
      [groupId],
    );
  let before: Record<string, { userId: string; n: number }[]>;

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    pglite = tdb.url ? null : new PGlite();
    db = await openDatabase(tdb.url ? { url: tdb.url } : { pglite: pglite! }, opts);
    // The database as it was before this migration (later ones may depend on it).
    const previous = readMigrations().filter((m) => m.name < MIGRATION);
    await migrate(db, { ...opts, migrations: previous });

    await sql(`INSERT INTO fc."Group" (id, name, "ownerId", "memberCount", "createdAt") VALUES ($1::uuid, 'One', 'u1', 4, $3), ($2::uuid, 'Quiet', 'u1', 1, $3)`, [g1, g2, t(0)]);
    await sql(
      `INSERT INTO fc."GroupMember" ("groupId", "userId", role, "joinedAt", "readAt", "leftAt") VALUES
         ($1::uuid, 'u1', 'owner', $3, $4, NULL), ($1::uuid, 'u2', 'member', $3, $5, NULL), ($1::uuid, 'u3', 'member', $3, $3, $6),
         ($1::uuid, 'u4', 'member', $3, $7, NULL), ($2::uuid, 'u1', 'owner', $3, $3, NULL)`,
      [g1, g2, t(0), t(2), t(1), t(4), t(6)],
    );
    const msg = (from: string | null, content: string, at: string, more: { type?: string; deletedAt?: string; groupId?: string; to?: string } = {}) =>
      sql(
        `INSERT INTO fc."Message" (id, "fromUserId", "toUserId", "groupId", "messageType", content, "createdAt", "deletedAt")
         VALUES ($1::uuid, $2, $3, $4::uuid, $5, $6, $7, $8)`,
        [id(), from, more.to ?? null, more.to ? null : (more.groupId ?? g1), more.type ?? 'CHAT', content, at, more.deletedAt ?? null],
      );
    await msg(null, 'u1 created the group', t(0), { type: 'GROUP_EVENT' });
    await msg('u1', 'a', t(1));
    await msg('u2', 'b', t(2));
    await msg('u1', 'c, recalled', t(3), { deletedAt: t(4) });
    await msg('u3', 'd', t(3));
    await msg(null, 'u3 left the group', t(4), { type: 'GROUP_EVENT' });
    await msg('u2', 'e', t(5));
    await msg('u1', 'f, at the same instant as g', t(6));
    await msg('u2', 'g, at the same instant as f', t(6));
    await msg('u1', 'h', t(8));
    await msg('u2', 'i, recalled', t(9), { deletedAt: t(10) });
    await msg('u1', 'direct', t(9), { to: 'u2' });
    before = { [g1]: await countedOverMessages(g1), [g2]: await countedOverMessages(g2) };
    expect((await migrate(db, opts)).applied).toEqual(readMigrations().filter((m) => m.name >= MIGRATION).map((m) => m.name));
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it('keeps every member’s unread count', async () => {
    // u1 read up to b: d, e, g; u2 up to a: d, f, h (c recalled); u4 up to f and g: h.
    expect(before[g1]).toEqual([
      { userId: 'u1', n: 3 },
      { userId: 'u2', n: 3 },
      { userId: 'u4', n: 1 },
    ]);
    expect(await countedFromNumbers(g1)).toEqual(before[g1]);
    expect(await countedFromNumbers(g2)).toEqual([{ userId: 'u1', n: 0 }]);
  });

  it('numbers the chat messages per group in history order, notices and direct messages not', async () => {
    const rows = await sql<{ content: string; seq: number | null }>(
      `SELECT content, seq::int AS seq FROM fc."Message" ORDER BY "createdAt", id`,
    );
    expect(rows.map((r) => [r.content[0], r.seq])).toEqual([
      ['u', null],
      ['a', 1],
      ['b', 2],
      ['c', 3],
      ['d', 4],
      ['u', null],
      ['e', 5],
      ['f', 6],
      ['g', 7],
      ['h', 8],
      ['i', 9],
      ['d', null],
    ]);
    expect(await sql(`SELECT id::text AS id, "lastSeq"::int AS "lastSeq", "recalledSeq"::int AS "recalledSeq" FROM fc."Group" ORDER BY id`)).toEqual([
      { id: g1, lastSeq: 9, recalledSeq: 9 },
      { id: g2, lastSeq: 0, recalledSeq: 0 },
    ]);
    const indexes = (await sql<{ name: string }>(`SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'friendchat' AND tablename = 'Message'`)).map((r) => r.name);
    expect(indexes).toEqual(expect.arrayContaining(['Message_groupId_createdAt_id_idx', 'Message_groupId_seq_recalled_idx']));
    expect(indexes).not.toContain('Message_groupId_createdAt_idx');
  });

  it('goes on numbering new messages from there', async () => {
    const writer = createMessageWriter(db);
    const w = await writer.write({ fromUserId: 'u2', toUserId: null, groupId: g1, content: 'new', clientId: 'c-new' });
    expect(w.created).toBe(true);
    expect(await sql(`SELECT seq::int AS seq FROM fc."Message" WHERE id = $1::uuid`, [w.message.id])).toEqual([{ seq: 10 }]);
    expect(await countedFromNumbers(g1)).toEqual([
      { userId: 'u1', n: 4 },
      { userId: 'u2', n: 3 },
      { userId: 'u4', n: 2 },
    ]);
  });
});
