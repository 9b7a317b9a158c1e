// The direct unread counts the database keeps ("UnreadCount", triggers on Message: migration
// 20261224000000_unread_counts), which chat/unread.ts reads instead of recounting the messages.
// After every kind of change a message can go through — sent alone or in a batch, a clientId sent
// again, read one or many, recalled, delivered, edited, a system message (not kept: recounted), a
// group message, a deleted user's conversations kept under a tombstone or deleted, a TRUNCATE — the kept
// counts equal a recount over the messages (what unread.ts counted before), and the pushed counts
// say the same. The migration fills the table from the messages stored before it.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate, readMigrations } from '../../backend/src/db/migrate.ts';
import { createMessageWriter, type MessageWriter } from '../../backend/src/chat/writer.ts';
import { createUnreadService, type UnreadService } from '../../backend/src/chat/unread.ts';
import { forgetUser, DELETED_USER_PREFIX } from '../../backend/src/chat/deletedUsers.ts';
import { insertSystemMessages } from '../../backend/src/chat/sql.ts';
import type { Bus } from '../../backend/src/realtime/bus.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

const MIGRATION = '20261224000000_unread_counts';
const M = 'friendchat."Message"';
const C = 'friendchat."UnreadCount"';

describe.each(dbTargets())('kept unread counts on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let db: Database;
  let writer: MessageWriter;
  let unread: UnreadService;

  /** What unread.ts counted before: every unread, live message to a user, per sender (system messages are not kept). */
  const recounted = () =>
    db.sql<{ u: string; p: string; n: number }>(
      `SELECT "toUserId" AS u, "fromUserId" AS p, count(*)::int AS n FROM ${M}
        WHERE "toUserId" IS NOT NULL AND "fromUserId" IS NOT NULL AND NOT "isRead" AND "deletedAt" IS NULL GROUP BY 1, 2 ORDER BY 1, 2`,
    );
  /** The kept counts that are not 0 (a negative one would show here too). */
  const kept = () => db.sql<{ u: string; p: string; n: number }>(`SELECT "userId" AS u, "peerId" AS p, n FROM ${C} WHERE n <> 0 ORDER BY 1, 2`);
  const expectExact = async () => {
    const counts = await recounted();
    expect(await kept()).toEqual(counts);
    return counts;
  };
  const send = (from: string, to: string, content = 'hi', clientId: string | null = null) =>
    writer.write({ fromUserId: from, toUserId: to, groupId: null, content, clientId });
  const idsOf = async (from: string | null, to: string) =>
    (await db.sql<{ id: string }>(`SELECT id::text AS id FROM ${M} WHERE "fromUserId" IS NOT DISTINCT FROM $1 AND "toUserId" = $2 ORDER BY id`, [from, to])).map((r) => r.id);

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    pglite = tdb.url ? null : new PGlite();
    db = await openDatabase(tdb.url ? { url: tdb.url } : { pglite: pglite! }, { schema: 'friendchat' });
    // Messages stored before the migration: read, unread, recalled, system, group.
    await migrate(db, { schema: 'friendchat', migrations: readMigrations().filter((m) => m.name < MIGRATION) });
    await db.sql(
      `INSERT INTO ${M} (id, "fromUserId", "toUserId", content, "isRead", "deletedAt") VALUES
         (gen_random_uuid(), 'old1', 'bob', 'a', false, NULL), (gen_random_uuid(), 'old1', 'bob', 'b', false, NULL),
         (gen_random_uuid(), 'old1', 'bob', 'c', true, NULL), (gen_random_uuid(), 'old2', 'bob', 'd', false, now()),
         (gen_random_uuid(), NULL, 'bob', 'e', false, NULL), (gen_random_uuid(), 'bob', 'old1', 'f', false, NULL)`,
    );
    expect((await migrate(db, { schema: 'friendchat' })).applied).toEqual(readMigrations().filter((m) => m.name >= MIGRATION).map((m) => m.name));
    writer = createMessageWriter(db);
    unread = createUnreadService(db, { emit: () => {} } as unknown as Bus);
  }, 60_000);
  afterAll(async () => {
    unread?.close();
    await db?.close();
    await pglite?.close();
    await tdb?.drop();
  });

  it('fills the counts from the messages stored before the migration', async () => {
    expect(await expectExact()).toEqual([
      { u: 'bob', p: 'old1', n: 2 },
      { u: 'old1', p: 'bob', n: 1 },
    ]);
    expect(await unread.counts('bob')).toMatchObject({ total: 2, byPeer: { old1: 2 }, system: 1 });
  });

  it('counts messages sent one at a time and in one batch, and a clientId sent again once', async () => {
    await send('alice', 'carol', 'one', 'c1');
    await send('alice', 'carol', 'one again', 'c1'); // the same message: stored once
    await expectExact();
    // One batch (one INSERT) to several recipients from several senders.
    const batch = [];
    for (let i = 0; i < 30; i++) batch.push(send(['alice', 'bob', 'dave'][i % 3]!, ['carol', 'erin'][i % 2]!, `b${i}`, `b${i}`));
    batch.push(send('alice', 'carol', 'dup', 'c1'));
    await Promise.all(batch);
    const counts = await expectExact();
    expect(counts.filter((c) => c.u === 'carol')).toEqual([
      { u: 'carol', p: 'alice', n: 6 },
      { u: 'carol', p: 'bob', n: 5 },
      { u: 'carol', p: 'dave', n: 5 },
    ]);
    expect(await unread.counts('carol')).toMatchObject({ total: 16, byPeer: { alice: 6, bob: 5, dave: 5 }, system: 0 });
  });

  it('counts down on reading one message, then a whole conversation; reading again changes nothing', async () => {
    const [first] = await idsOf('alice', 'carol');
    // chat/service.ts's read: one message, then everything from the peer.
    const readOne = () => db.prisma.message.updateMany({ where: { id: first!, isRead: false }, data: { isRead: true, readAt: new Date() } });
    expect((await readOne()).count).toBe(1);
    await expectExact();
    expect((await unread.counts('carol')).byPeer).toEqual({ alice: 5, bob: 5, dave: 5 });
    const readAll = () =>
      db.prisma.message.updateMany({ where: { fromUserId: 'alice', toUserId: 'carol', isRead: false, deletedAt: null }, data: { isRead: true, readAt: new Date() } });
    expect((await readAll()).count).toBe(5);
    expect((await readAll()).count).toBe(0);
    await expectExact();
    expect(await unread.counts('carol')).toMatchObject({ total: 10, byPeer: { bob: 5, dave: 5 } });
  });

  it('counts down on a recall of an unread message, not of a read one; receipts and edits change nothing', async () => {
    const [unreadOne] = await idsOf('bob', 'carol');
    const [readOne] = await idsOf('alice', 'carol');
    const recall = (id: string) => db.prisma.message.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: new Date() } });
    await recall(unreadOne!);
    await recall(readOne!);
    await expectExact();
    expect((await unread.counts('carol')).byPeer).toEqual({ bob: 4, dave: 5 });
    // An edit, a reply's touch: the same counts (a delivered receipt does not change the message).
    await db.sql(`UPDATE ${M} SET "replyToId" = "replyToId" WHERE "toUserId" = 'carol'`);
    await db.sql(`UPDATE ${M} SET content = 'edited', "editedAt" = now() WHERE "toUserId" = 'erin'`);
    await expectExact();
    expect((await unread.counts('carol')).byPeer).toEqual({ bob: 4, dave: 5 });
  });

  it('keeps no count of system messages (the host’s notification transactions would deadlock on them), and recounts them', async () => {
    await insertSystemMessages(db, [
      { toUserId: 'carol', messageType: 'SYSTEM_LIKE', content: 'x', metadata: {} },
      { toUserId: 'carol', messageType: 'SYSTEM_TASK', content: 'y', metadata: {} },
      { toUserId: 'erin', messageType: 'SYSTEM_LIKE', content: 'z', metadata: {} },
    ]);
    await expectExact();
    expect(await db.sql(`SELECT * FROM ${C} WHERE "peerId" = ''`)).toEqual([]);
    expect(await unread.counts('carol')).toMatchObject({ system: 2, total: 9 });
    // notifications/inbox.ts's read.
    await db.prisma.message.updateMany({ where: { toUserId: 'carol', fromUserId: null, deletedAt: null, isRead: false }, data: { isRead: true, readAt: new Date() } });
    await expectExact();
    expect(await unread.counts('carol')).toMatchObject({ system: 0, total: 9 });
  });

  it('does not count group messages', async () => {
    const g = '0190c000-0000-7000-8000-000000000001';
    await db.sql(`INSERT INTO friendchat."Group" (id, name, "ownerId") VALUES ($1::uuid, 'G', 'alice')`, [g]);
    await db.sql(`INSERT INTO ${M} (id, "fromUserId", "groupId", content, seq) VALUES (gen_random_uuid(), 'alice', $1::uuid, 'g', 1)`, [g]);
    const before = await kept();
    await db.sql(`UPDATE ${M} SET "deletedAt" = now() WHERE "groupId" = $1::uuid`, [g]);
    await db.sql(`DELETE FROM friendchat."Group" WHERE id = $1::uuid`, [g]); // its messages go with it
    expect(await kept()).toEqual(before);
    await expectExact();
  });

  it('moves a deleted user’s counts to their tombstone, and leaves no row under their id', async () => {
    await send('dave', 'frank', 'to frank');
    await send('frank', 'dave', 'to dave');
    await insertSystemMessages(db, [{ toUserId: 'dave', messageType: 'SYSTEM_LIKE', content: 'x', metadata: {} }]);
    await expectExact();
    expect(await forgetUser(db, 'dave')).toEqual(expect.arrayContaining(['carol', 'frank']));
    const counts = await expectExact();
    const tomb = counts.find((c) => c.u === 'frank')!.p;
    expect(tomb.startsWith(DELETED_USER_PREFIX)).toBe(true);
    expect((await unread.counts('carol')).byPeer).toEqual({ bob: 4, [tomb]: 5 });
    expect(counts).toContainEqual({ u: tomb, p: 'frank', n: 1 }); // what they had not read stays with the tombstone
    expect(await db.sql(`SELECT * FROM ${C} WHERE "userId" = 'dave' OR "peerId" = 'dave'`)).toEqual([]);
  });

  it('counts down when a deleted user’s messages are deleted, and leaves no row under their id', async () => {
    await send('erin', 'bob', 'to bob');
    await expectExact();
    await forgetUser(db, 'bob', { messages: 'delete' });
    const counts = await expectExact();
    expect(counts.some((c) => c.u === 'bob' || c.p === 'bob')).toBe(false);
    expect((await unread.counts('carol')).byPeer).not.toHaveProperty('bob');
    expect(await db.sql(`SELECT * FROM ${C} WHERE "userId" = 'bob' OR "peerId" = 'bob'`)).toEqual([]);
  });

  it('stays exact under concurrent statements, and goes with the messages on TRUNCATE', async () => {
    const work = [];
    for (let i = 0; i < 40; i++) {
      work.push(send(`s${i % 4}`, `r${i % 5}`, `m${i}`));
      if (i % 10 === 9) {
        work.push(db.prisma.message.updateMany({ where: { toUserId: `r${i % 5}`, isRead: false }, data: { isRead: true } }));
        work.push(db.sql(`DELETE FROM ${M} WHERE id IN (SELECT id FROM ${M} WHERE "fromUserId" = 's1' LIMIT 2)`));
      }
    }
    await Promise.all(work);
    await expectExact();
    await db.sql(`TRUNCATE ${M} CASCADE`);
    expect(await db.sql(`SELECT * FROM ${C}`)).toEqual([]);
    await send('alice', 'carol');
    expect(await expectExact()).toEqual([{ u: 'carol', p: 'alice', n: 1 }]);
  });
});
