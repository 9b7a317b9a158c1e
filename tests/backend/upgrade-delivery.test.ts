// Upgrading a database with delivered messages to receipts of their own (migration
// 20261226000000_delivery_receipts): every migration before it applied, direct and group
// messages stored as the previous version stored them (a receipt in "Message"."deliveredAt",
// which moved "changedAt"; some changed again after it); then the migration. Each receipt is a
// "Delivery" row with the message's sender, recipient and group, sync gives each message once
// with it, and a new acknowledgement after the upgrade is stored the new way.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, readMigrations } from '../../backend/src/db/migrate.ts';
import { syncPage } from '../../backend/src/chat/sql.ts';
import { START } from '../../backend/src/chat/cursor.ts';
import { createDeliveredAcks } from '../../backend/src/chat/delivered.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

const MIGRATION = '20261226000000_delivery_receipts';
const g1 = '0190c000-0000-7000-8000-000000000001';
const t = (minute: number) => new Date(Date.UTC(2026, 11, 1, 12, minute)).toISOString();
const id = (n: number) => `0190c000-0000-7000-8000-1000000000${String(n).padStart(2, '0')}`;

describe.each(dbTargets())('upgrading a database with delivered messages to receipts of their own on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let db: Database;
  const opts = { schema: 'friendchat' };
  const sql = <T = Record<string, unknown>,>(text: string, params: unknown[] = []) => db.sql<T>(text.replaceAll('fc.', 'friendchat.'), params);

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    pglite = tdb.url ? null : new PGlite();
    db = await openDatabase(tdb.url ? { url: tdb.url } : { pglite: pglite! }, opts);
    await migrate(db, { ...opts, migrations: readMigrations().filter((m) => m.name < MIGRATION) });

    await sql(`INSERT INTO fc."Group" (id, name, "ownerId", "memberCount", "createdAt") VALUES ($1::uuid, 'One', 'u1', 2, $2)`, [g1, t(0)]);
    await sql(`INSERT INTO fc."GroupMember" ("groupId", "userId", role, "joinedAt", "readAt") VALUES ($1::uuid, 'u1', 'owner', $2, $2), ($1::uuid, 'u2', 'member', $2, $2)`, [g1, t(0)]);
    // As the previous version stored them: "changedAt" is the latest of created, delivered, read.
    const msg = (n: number, from: string, to: string | null, created: number, delivered: number | null, read: number | null = null) =>
      sql(
        `INSERT INTO fc."Message" (id, "fromUserId", "toUserId", "groupId", content, "createdAt", "deliveredAt", "isRead", "readAt", seq)
         VALUES ($1::uuid, $2, $3, $4::uuid, $5, $6, $7, $8, $9, $10)`,
        [id(n), from, to, to ? null : g1, `m${n}`, t(created), delivered === null ? null : t(delivered), read !== null, read === null ? null : t(read), to ? null : n],
      );
    await msg(1, 'u1', 'u2', 1, 2); // delivered
    await msg(2, 'u1', 'u2', 3, 4, 5); // delivered, then read
    await msg(3, 'u1', 'u2', 6, null); // not delivered
    await msg(4, 'u2', 'u1', 7, 8); // the other way
    await msg(5, 'u1', null, 9, 10); // in the group
    // The stamps the previous version left (its touch trigger, which stamps now(), held off).
    await sql(`ALTER TABLE fc."Message" DISABLE TRIGGER "Message_touch"`);
    await sql(`UPDATE fc."Message" SET "changedAt" = GREATEST("createdAt", "deliveredAt", "readAt")`);
    await sql(`ALTER TABLE fc."Message" ENABLE TRIGGER "Message_touch"`);
    expect((await migrate(db, opts)).applied).toEqual(readMigrations().filter((m) => m.name >= MIGRATION).map((m) => m.name));
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it('moves each receipt to its own row, with the message’s sender, recipient and group, and drops the column', async () => {
    const rows = await sql<{ messageId: string; deliveredAt: Date; fromUserId: string; toUserId: string | null; groupId: string | null }>(
      `SELECT "messageId", "deliveredAt" AT TIME ZONE 'UTC' AS "deliveredAt", "fromUserId", "toUserId", "groupId" FROM fc."Delivery" ORDER BY "messageId"`,
    );
    expect(rows.map((r) => ({ ...r, deliveredAt: r.deliveredAt.toISOString() }))).toEqual([
      { messageId: id(1), deliveredAt: t(2), fromUserId: 'u1', toUserId: 'u2', groupId: null },
      { messageId: id(2), deliveredAt: t(4), fromUserId: 'u1', toUserId: 'u2', groupId: null },
      { messageId: id(4), deliveredAt: t(8), fromUserId: 'u2', toUserId: 'u1', groupId: null },
      { messageId: id(5), deliveredAt: t(10), fromUserId: 'u1', toUserId: null, groupId: g1 },
    ]);
    const columns = await sql<{ name: string }>(
      `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'friendchat' AND table_name = 'Message' AND column_name = 'deliveredAt'`,
    );
    expect(columns).toEqual([]);
  });

  it('syncs each message once, at its latest change, with its receipt', async () => {
    for (const me of ['u1', 'u2']) {
      const rows = (await syncPage(db, me, START, null, 100)).rows;
      expect(rows.map((r) => [r.id, r.at.toISOString(), r.deliveredAt?.toISOString() ?? null])).toEqual([
        [id(1), t(2), t(2)],
        [id(2), t(5), t(4)],
        [id(3), t(6), null],
        [id(4), t(8), t(8)],
        [id(5), t(10), t(10)],
      ]);
    }
  });

  it('stores a new acknowledgement as a receipt, leaving the message and its change stamp alone', async () => {
    const pushed: unknown[] = [];
    const bus = { emit: (_to: unknown, _event: unknown, payload: unknown) => pushed.push(payload) } as unknown as Bus;
    const acks = createDeliveredAcks(db, bus, { windowMs: 1 });
    const stored = await acks.ack('u2', [id(1), id(3)]);
    await acks.close();
    expect(stored.messageIds).toEqual([id(3)]);
    expect(pushed).toEqual([{ by: 'u2', messageIds: [id(3)], deliveredAt: stored.deliveredAt }]);
    const [m3] = await sql<{ changedAt: Date }>(`SELECT "changedAt" AT TIME ZONE 'UTC' AS "changedAt" FROM fc."Message" WHERE id = $1::uuid`, [id(3)]);
    expect(m3!.changedAt.toISOString()).toBe(t(6));
    // Sync gives it from its receipt now, after the others.
    const rows = (await syncPage(db, 'u1', START, null, 100)).rows;
    expect(rows.map((r) => r.id)).toEqual([id(1), id(2), id(4), id(5), id(3)]);
    expect(rows.at(-1)!.deliveredAt?.toISOString()).toBe(stored.deliveredAt);
  });
});
