// Migration 20261225000000_slim_message_indexes: a direct message has fewer index entries to write (issue
// 15), and every statement that used the changed indexes still finds its rows through them. The
// statements are the real ones: the services below run on a Database that records what they send,
// and each recorded statement is explained with its own parameters, sequential scans disabled, so
// a partial index whose predicate the planner cannot prove from the statement shows up as a plan
// without it. The receipts' partial indexes (migration 20261226000000_delivery_receipts) alike.
// On PGlite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate } from '../../backend/src/db/migrate.ts';
import { syncPage } from '../../backend/src/chat/sql.ts';
import { START } from '../../backend/src/chat/cursor.ts';
import { historySql } from '../../backend/src/groups/service.ts';
import { createUnreadService } from '../../backend/src/chat/unread.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

const M = 'friendchat."Message"';

describe.each(dbTargets())('message indexes on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let db: Database;
  const groupId = randomUUID();

  /** `db`, recording each statement its `sql` and `prepared` send (with their parameters). */
  function recording(): { db: Database; sent: { text: string; params: unknown[] }[] } {
    const sent: { text: string; params: unknown[] }[] = [];
    const proxy = new Proxy(db, {
      get(target, key, receiver) {
        if (key === 'sql' || key === 'prepared') {
          return (text: string, params: unknown[] = []) => {
            sent.push({ text, params });
            return target[key](text, params);
          };
        }
        return Reflect.get(target, key, receiver);
      },
    });
    return { db: proxy, sent };
  }

  /**
   * The plan of a statement when `index` is the only index of `table` besides its primary key,
   * and sequential scans are made as costly as PostgreSQL can make them: the plan uses `index`
   * exactly when the index's predicate follows from the statement. The indexes are dropped in a
   * transaction that is rolled back.
   */
  async function planWithOnly(index: string, text: string, params: unknown[], table = 'Message'): Promise<string> {
    const rolledBack = new Error('rolled back');
    let plan = '';
    await db
      .transaction(async (sql) => {
        const others = await sql<{ indexname: string }>(
          `SELECT indexname FROM pg_indexes WHERE schemaname = 'friendchat' AND tablename = $2 AND indexname NOT IN ($2 || '_pkey', $1)`,
          [index, table],
        );
        expect(others.length).toBeGreaterThan(table === 'Message' ? 10 : 1);
        for (const o of others) await sql(`DROP INDEX friendchat."${o.indexname}"`);
        await sql('SET LOCAL enable_seqscan = off');
        plan = (await sql<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
        throw rolledBack;
      })
      .catch((e: unknown) => {
        if (e !== rolledBack) throw e;
      });
    return plan;
  }

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    pglite = tdb.url ? null : new PGlite();
    db = await openDatabase(tdb.url ? { url: tdb.url } : { pglite: pglite! }, { schema: 'friendchat' });
    await migrate(db, { schema: 'friendchat' });
    await db.sql(`INSERT INTO friendchat."Group" (id, name, "ownerId", "memberCount") VALUES ($1::uuid, 'g', 'ann', 2)`, [groupId]);
    await db.sql(`INSERT INTO friendchat."GroupMember" ("groupId", "userId", role) VALUES ($1::uuid, 'ann', 'owner'), ($1::uuid, 'ben', 'member')`, [groupId]);
    // Direct messages both ways, system messages (one read), group messages.
    await db.sql(
      `INSERT INTO ${M} (id, "fromUserId", "toUserId", "groupId", "messageType", content, "isRead", seq)
       SELECT gen_random_uuid(), f, t, g, ty, 'message ' || n, r, s FROM (VALUES
         ('ann', 'ben', NULL::uuid, 'CHAT', false, NULL::bigint), ('ben', 'ann', NULL, 'CHAT', false, NULL),
         (NULL, 'ann', NULL, 'NEW_FOLLOWER', false, NULL), (NULL, 'ann', NULL, 'NEW_FOLLOWER', true, NULL),
         ('ann', NULL, $1::uuid, 'CHAT', false, 1), ('ben', NULL, $1::uuid, 'CHAT', false, 2)
       ) v(f, t, g, ty, r, s), generate_series(1, 20) n`,
      [groupId],
    );
    await db.sql(`UPDATE friendchat."Group" SET "lastSeq" = 2 WHERE id = $1::uuid`, [groupId]);
    await db.sql('ANALYZE friendchat."Message"');
  }, 60_000);
  afterAll(async () => {
    await db?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it('keeps in each partial index only the rows it is for, and the indexes the contract names', async () => {
    const defs = new Map(
      (await db.sql<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'friendchat' AND tablename = 'Message'`)).map((r) => [r.indexname, r.indexdef]),
    );
    for (const name of ['Message_groupId_createdAt_id_idx', 'Message_groupId_changedAt_idx']) expect(defs.get(name), name).toMatch(/WHERE \("groupId" IS NOT NULL\)$/);
    expect(defs.get('Message_attachmentId_key')).toMatch(/^CREATE UNIQUE INDEX .* WHERE \("attachmentId" IS NOT NULL\)$/);
    expect(defs.get('Message_toUserId_isRead_idx')).toMatch(/\("toUserId", "isRead"\)$/);
    expect(defs.get('Message_messageType_idx')).toMatch(/\("messageType"\)$/);
  });

  it('syncs group messages through the group index', async () => {
    const rec = recording();
    const rows = (await syncPage(rec.db, 'ann', START, null, 200)).rows;
    // 20 from ben, 20 to ben, 40 system messages (read or not), 40 in the group.
    expect(rows).toHaveLength(120);
    const [sync] = rec.sent;
    expect(await planWithOnly('Message_groupId_changedAt_idx', sync!.text, sync!.params)).toContain('Message_groupId_changedAt_idx');
  });

  it('syncs receipts (migration 20261226000000_delivery_receipts) through their partial indexes, one per branch', async () => {
    // Half of the messages delivered a minute after they were sent: later than any other change,
    // so each comes from its receipt.
    await db.sql(
      `INSERT INTO friendchat."Delivery" ("messageId", "deliveredAt", "fromUserId", "toUserId", "groupId")
       SELECT id, "changedAt" + interval '1 minute', "fromUserId", "toUserId", "groupId" FROM ${M}
       WHERE "messageType" = 'CHAT' AND content ~ '[02468]$'`,
    );
    await db.sql('ANALYZE friendchat."Delivery"');
    try {
      const defs = await db.sql<{ indexname: string; indexdef: string }>(`SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'Delivery' ORDER BY 1`);
      expect(defs.map((d) => [d.indexname, d.indexdef.replace(/^.* USING btree /, '')])).toEqual([
        ['Delivery_fromUserId_deliveredAt_idx', '("fromUserId", "deliveredAt") WHERE ("groupId" IS NULL)'],
        ['Delivery_groupId_deliveredAt_idx', '("groupId", "deliveredAt") WHERE ("groupId" IS NOT NULL)'],
        ['Delivery_pkey', '("messageId")'],
        ['Delivery_toUserId_deliveredAt_idx', '("toUserId", "deliveredAt") WHERE ("toUserId" IS NOT NULL)'],
      ]);
      const rec = recording();
      const rows = (await syncPage(rec.db, 'ann', START, null, 200)).rows;
      expect(rows).toHaveLength(120);
      const fromReceipts = rows.filter((r) => r.deliveredAt !== null);
      expect(fromReceipts).toHaveLength(40);
      expect(fromReceipts.every((r) => r.at.getTime() === r.deliveredAt!.getTime())).toBe(true);
      const [sync] = rec.sent;
      for (const index of ['Delivery_fromUserId_deliveredAt_idx', 'Delivery_toUserId_deliveredAt_idx', 'Delivery_groupId_deliveredAt_idx']) {
        expect(await planWithOnly(index, sync!.text, sync!.params, 'Delivery'), index).toContain(index);
      }
    } finally {
      await db.sql('DELETE FROM friendchat."Delivery"');
    }
  });

  it('reads a group history page by its (groupId, createdAt, id) index', async () => {
    for (const withCursor of [false, true]) {
      const params = [groupId, 'ann', 31, ...(withCursor ? [new Date().toISOString(), randomUUID()] : [])];
      const rows = await db.sql<{ id: string | null }>(historySql(db, withCursor), params);
      expect(rows.filter((r) => r.id !== null)).toHaveLength(31);
      expect(await planWithOnly('Message_groupId_createdAt_id_idx', historySql(db, withCursor), params)).toContain('Message_groupId_createdAt_id_idx');
    }
  });

  it("counts unread (chat/unread.ts) through each user's own rows, in the generic plan, with statistics older than the rows", async () => {
    // 2,000 other users, each with an unread system message and an unread chat message (so a row
    // of "UnreadCount"), all stored after the last ANALYZE: the statistics describe a table
    // without them, as on a database autovacuum has not analyzed yet. The prepared statement's
    // generic plan once scanned every system message, or all of "UnreadCount", comparing each
    // row with every user of the batch.
    await db.sql(
      `INSERT INTO ${M} (id, "fromUserId", "toUserId", "messageType", content)
       SELECT gen_random_uuid(), f, 'other-' || n, ty, 'm' FROM generate_series(1, 2000) n,
         (VALUES (NULL::text, 'NEW_FOLLOWER'), ('someone', 'CHAT')) v(f, ty)`,
    );
    try {
      const rec = recording();
      const unread = createUnreadService(rec.db, { emit() {} } as unknown as Bus);
      const counts = await unread.counts('ann');
      expect(counts.byPeer).toEqual({ ben: 20 });
      expect(counts.system).toBe(20);
      expect((await unread.counts('other-7')).byPeer).toEqual({ someone: 1 });
      const [stmt] = rec.sent;
      const rolledBack = new Error('rolled back');
      let plan = '';
      await db
        .transaction(async (sql) => {
          await sql('SET LOCAL plan_cache_mode = force_generic_plan');
          await sql(`PREPARE fc_counts_plan AS ${stmt!.text}`);
          try {
            plan = (await sql<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) EXECUTE fc_counts_plan('{ann,ben}')`)).map((r) => r['QUERY PLAN']).join('\n');
          } finally {
            await sql('DEALLOCATE fc_counts_plan');
          }
          throw rolledBack;
        })
        .catch((e: unknown) => {
          if (e !== rolledBack) throw e;
        });
      // What the plan read and threw away: at most ann's and ben's own rows, never the others'.
      const removed = [...plan.matchAll(/Rows Removed by (?:Filter|Index Recheck): (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      expect(removed, plan).toBeLessThan(100);
      expect(plan).not.toMatch(/Seq Scan on "(UnreadCount|Message)"/);
    } finally {
      await db.sql(`DELETE FROM ${M} WHERE "toUserId" LIKE 'other-%'`);
    }
  });

  it('still refuses an upload sent twice, under the same constraint name, and takes any number of messages without one', async () => {
    const attachmentId = randomUUID();
    await db.sql(`INSERT INTO friendchat."Attachment" (id, "uploaderId", kind, mime, size, name, "storageKey") VALUES ($1::uuid, 'ann', 'file', 'text/plain', 1, 'a.txt', $2)`, [attachmentId, `k-${attachmentId}`]);
    const send = () => db.sql(`INSERT INTO ${M} (id, "fromUserId", "toUserId", content, "attachmentId") VALUES (gen_random_uuid(), 'ann', 'ben', '', $1::uuid)`, [attachmentId]);
    await send();
    const err = await send().catch((e: unknown) => e as { code?: string; constraint?: string; message?: string });
    expect(err).toMatchObject({ code: '23505' });
    expect(JSON.stringify(err) + String((err as Error).message)).toContain('Message_attachmentId_key');
    const n = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${M} WHERE "attachmentId" IS NULL`);
    expect(n[0]!.n).toBe(120);
  });
});
