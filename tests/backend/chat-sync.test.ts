import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { emitAck } from '../helpers/wait.ts';
import { firstMessageUnlocked, friendPair, sendOverHttp, sendOverSocket } from '../helpers/chat.ts';

type Msg = { id: string; createdAt: string; messageType: string; fromUserId: string | null; toUserId: string };
type SyncPage = { messages: Msg[]; nextCursor: string; hasMore: boolean };

const inServerOrder = (ms: Msg[]) =>
  ms.every((m, i) => i === 0 || ms[i - 1]!.createdAt < m.createdAt || (ms[i - 1]!.createdAt === m.createdAt && ms[i - 1]!.id < m.id));

describe.each(dbTargets())('offline sync on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  /** One sync page, over the socket or over HTTP. */
  async function syncOnce(via: ClientSocket | TestUser, after: string | undefined, limit?: number): Promise<SyncPage> {
    const payload = { ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit } : {}) };
    if ('emit' in via) {
      const ack = await emitAck(via, 'chat:sync', payload);
      expect(ack.ok).toBe(true);
      const { ok: _ok, ...page } = ack;
      return page;
    }
    const q = new URLSearchParams(Object.entries(payload).map(([k, v]): [string, string] => [k, String(v)]));
    const r = await s.request('GET', `/api/messages/sync?${q}`, { token: via.token });
    expect(r.status).toBe(200);
    return r.body;
  }

  /** Pages until hasMore is false, as a client does after a reconnect. */
  async function syncAll(via: ClientSocket | TestUser, after: string | undefined, limit?: number) {
    const pages: SyncPage[] = [];
    let cursor = after;
    do {
      const page = await syncOnce(via, cursor, limit);
      pages.push(page);
      expect(typeof page.nextCursor).toBe('string');
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(100);
    } while (pages.at(-1)!.hasMore);
    return { pages, messages: pages.flatMap((p) => p.messages), cursor: cursor! };
  }

  it('gives a returning user each missed message exactly once, system messages included, paged with hasMore', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();

    // Bob is online once and keeps his cursor.
    const bobTab = await s.connect(bob);
    const initial = await syncAll(bobTab, undefined);
    expect(initial.messages.map((m) => m.messageType)).toEqual(expect.arrayContaining(['SYSTEM_FOLLOW', 'SYSTEM_FRIEND']));
    const cursor = initial.cursor;
    const knownSystem = new Set(initial.messages.map((m) => m.id));
    bobTab.disconnect();

    // While he is away: 12 chat messages from alice, one she recalls, a follow from carol, and
    // a message bob sent from another device.
    const aliceTab = await s.connect(alice);
    const fromAlice: string[] = [];
    for (let i = 0; i < 12; i++) fromAlice.push((await sendOverSocket(aliceTab, bob.id, `missed ${i}`)).message.id);
    const recalled = await sendOverHttp(s, alice, bob.id, 'never mind');
    expect((await s.request('DELETE', `/api/messages/${recalled.id}`, { token: alice.token })).status).toBe(204);
    await s.follow(carol, bob);
    const ownMessage = await sendOverHttp(s, bob, alice.id, 'from my phone');
    // Bob's first message unlocks FIRST_MESSAGE after the answer (the messageSent hook): its
    // notice is one of the system messages he missed.
    await firstMessageUnlocked(s, bob);

    const system = (await s.request('GET', '/api/messages/system/list?limit=100', { token: bob.token })).body.messages as Msg[];
    const newSystem = system.filter((m) => !knownSystem.has(m.id));
    expect(newSystem.map((m) => m.messageType)).toContain('SYSTEM_FOLLOW');
    // The recalled one comes too, without its content (DESIGN.md, "Message lifecycle").
    const expected = [...fromAlice, recalled.id, ownMessage.id, ...newSystem.map((m) => m.id)].sort();

    // Back online, over the socket, 5 at a time.
    const back = await s.connect(bob);
    const viaSocket = await syncAll(back, cursor, 5);
    const ids = viaSocket.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(expected);
    expect(viaSocket.messages.find((m) => m.id === recalled.id)).toMatchObject({ content: '', deletedAt: expect.any(String) });
    // In change order: the recall moved that one; the others were never changed.
    expect(inServerOrder(viaSocket.messages.filter((m) => m.id !== recalled.id))).toBe(true);
    expect(viaSocket.pages.length).toBeGreaterThan(1);
    expect(viaSocket.pages.map((p) => p.messages.length)).toEqual(viaSocket.pages.map((_, i, all) => (i < all.length - 1 ? 5 : ids.length - 5 * i)));
    expect(viaSocket.pages.map((p) => p.hasMore)).toEqual(viaSocket.pages.map((_, i, all) => i < all.length - 1));
    // Each page's cursor resumes right after its last message.
    expect(viaSocket.pages[0]!.nextCursor).not.toBe(cursor);

    // Nothing new since: an empty page that hands back the same cursor.
    expect(await syncOnce(back, viaSocket.cursor, 5)).toEqual({ messages: [], nextCursor: viaSocket.cursor, hasMore: false });

    // HTTP answers the same pages.
    const viaHttp = await syncAll(bob, cursor, 5);
    expect(viaHttp.pages).toEqual(viaSocket.pages);
    expect(await syncOnce(bob, viaHttp.cursor)).toEqual({ messages: [], nextCursor: viaHttp.cursor, hasMore: false });

    // And what comes next starts from that cursor, once.
    const next = await sendOverHttp(s, alice, bob.id, 'welcome back');
    const after = await syncOnce(back, viaSocket.cursor);
    expect(after.messages.map((m) => m.id)).toEqual([next.id]);
    expect(after.hasMore).toBe(false);
  });

  it('pages through messages that share one timestamp without gaps or repeats', async () => {
    const [alice, bob] = await friendPair(s);
    const createdAt = new Date('2021-06-01T10:00:00.000Z');
    await s.app.db.prisma.message.createMany({
      data: Array.from({ length: 10 }, (_, i) => ({
        fromUserId: i % 3 ? alice.id : bob.id,
        toUserId: i % 3 ? bob.id : alice.id,
        content: `same instant ${i}`,
        createdAt,
        // Sync reads in change order; these were never changed since.
        changedAt: createdAt,
      })),
    });
    const stored = await s.app.db.prisma.message.findMany({
      where: { OR: [{ toUserId: bob.id }, { fromUserId: bob.id }], deletedAt: null },
      select: { id: true },
    });

    const all = await syncAll(bob, undefined, 3);
    const ids = all.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(stored.map((m) => m.id).sort());
    expect(inServerOrder(all.messages)).toBe(true);
    // The ten from 2021 come first.
    expect(all.messages.slice(0, 10).every((m) => m.createdAt === createdAt.toISOString())).toBe(true);
  });

  it('hands a brand-new user a cursor that later resumes from the start', async () => {
    const [alice, bob] = await s.register().then(async (a) => [a, await s.register()] as const);
    const first = await syncOnce(bob, undefined);
    expect(first).toEqual({ messages: [], nextCursor: expect.any(String), hasMore: false });
    await s.makeFriends(alice, bob);
    const m = await sendOverHttp(s, alice, bob.id, 'hi new friend');
    const later = await syncAll(bob, first.nextCursor);
    expect(later.messages.map((x) => x.id)).toContain(m.id);
  });

  it('never hands one user another user’s messages', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    await sendOverHttp(s, alice, bob.id, 'between us');
    const page = await syncAll(carol, undefined);
    expect(page.messages).toEqual([]);
  });

  it.each([
    ['a cursor that is not one', '?after=bm9wZQ'],
    ['a limit over 100', '?limit=101'],
    ['a limit of 0', '?limit=0'],
  ])('answers 400 VALIDATION for %s', async (_name, query) => {
    const bob = await s.register();
    const r = await s.request('GET', `/api/messages/sync${query}`, { token: bob.token });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
  });
});

// A message whose transaction started before a sync but commits after it must not end up behind
// the cursor that sync handed out (PostgreSQL: several connections write at once).
describe.skipIf(!process.env.DATABASE_URL)('sync while a message is still being written, on postgres', () => {
  let s: TestServer;
  let database: TestDatabase;
  let writer: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    s = await startServer({ target: 'postgres', database });
    // Another node's chat module: its connections carry the module's application_name.
    writer = new pg.Client({ connectionString: database.url, application_name: 'friendchat:friendchat' });
    await writer.connect();
  });
  afterAll(async () => {
    await writer?.end();
    await s?.close();
    // The caller's database (startServer drops only those it created).
    await database?.drop();
  });

  /** Syncs from the start to the end; answers the last cursor. */
  async function syncToEnd(token: string): Promise<string> {
    let page = (await s.request('GET', '/api/messages/sync', { token })).body as SyncPage;
    let cursor = page.nextCursor;
    while (page.hasMore) {
      page = (await s.request('GET', `/api/messages/sync?after=${cursor}`, { token })).body as SyncPage;
      cursor = page.nextCursor;
    }
    return cursor;
  }

  /** Another connection starts writing a message (its time is its transaction's start) and leaves it open; answers its id. */
  async function beginSlowWrite(from: string, to: string): Promise<string> {
    await writer.query('BEGIN');
    const { rows } = await writer.query<{ id: string }>(
      `INSERT INTO friendchat."Message" (id, "fromUserId", "toUserId", content) VALUES (gen_random_uuid(), $1, $2, 'slow') RETURNING id`,
      [from, to],
    );
    return rows[0]!.id;
  }

  it('holds back newer messages until the older one commits, then gives both in order', async () => {
    const [alice, bob] = await friendPair(s);
    const cursor = await syncToEnd(bob.token);

    // Another connection starts writing a message to bob (its time is its transaction's start)…
    // from someone else: two messages of one (sender, recipient) pair are stored one after the
    // other, as each waits for the other's kept unread count (UnreadCount).
    const dave = await s.register();
    const slow = await beginSlowWrite(dave.id, bob.id);
    await new Promise((r) => setTimeout(r, 20));
    // …a later message commits first…
    const fast = await sendOverHttp(s, alice, bob.id, 'fast');
    const during = (await s.request('GET', `/api/messages/sync?after=${cursor}`, { token: bob.token })).body as SyncPage;
    // …so the sync does not run ahead of the one still in flight (it waited SYNC_SETTLE_MS for it).
    expect(during.messages.map((m) => m.id)).not.toContain(fast.id);
    await writer.query('COMMIT');

    const after = (await s.request('GET', `/api/messages/sync?after=${during.nextCursor}`, { token: bob.token })).body as SyncPage;
    const seen = [...during.messages, ...after.messages].map((m) => m.id);
    expect(seen).toEqual([slow, fast.id]);
  });

  it('waits for a write that was open when it began: what was committed before the sync is in it', async () => {
    // A client that has just reconnected may have missed the live push of a message committed
    // before its socket joined; its sync must hold that message even when an older write was
    // still open at that moment.
    const [alice, bob] = await friendPair(s);
    const cursor = await syncToEnd(bob.token);
    const dave = await s.register();
    const slow = await beginSlowWrite(dave.id, bob.id);
    let committed = false;
    try {
      await new Promise((r) => setTimeout(r, 20));
      const fast = await sendOverHttp(s, alice, bob.id, 'committed before the sync');
      const sync = s.request('GET', `/api/messages/sync?after=${cursor}`, { token: bob.token });
      // The older write ends while the sync waits for it (well within SYNC_SETTLE_MS).
      await new Promise((r) => setTimeout(r, 100));
      await writer.query('COMMIT');
      committed = true;
      const page = (await sync).body as SyncPage;
      expect(page.messages.map((m) => m.id)).toEqual([slow, fast.id]);
    } finally {
      if (!committed) await writer.query('ROLLBACK');
    }
  });
});

// The guard waits for the module's own writers only: a host's long transaction on the same
// database (its own tables) does not hold sync back.
describe.skipIf(!process.env.DATABASE_URL)('sync beside an unrelated open transaction, on postgres', () => {
  let s: TestServer;
  let database: TestDatabase;
  let host: pg.Client;
  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    s = await startServer({ target: 'postgres', database });
    host = new pg.Client({ connectionString: database.url, application_name: 'some-host-app' });
    await host.connect();
  });
  afterAll(async () => {
    await host?.end();
    await s?.close();
    await database?.drop();
  });

  it('returns new messages while a host transaction stays open', async () => {
    const [alice, bob] = await friendPair(s);
    const start = (await s.request('GET', '/api/messages/sync', { token: bob.token })).body as SyncPage;
    await host.query('BEGIN');
    await host.query(`UPDATE "User" SET "displayName" = "displayName" WHERE id = $1`, [alice.id]);
    try {
      await new Promise((r) => setTimeout(r, 20));
      const sent = await sendOverHttp(s, alice, bob.id, 'while the host works');
      const page = (await s.request('GET', `/api/messages/sync?after=${start.nextCursor}`, { token: bob.token })).body as SyncPage;
      expect(page.messages.map((m) => m.id)).toEqual([sent.id]);
    } finally {
      await host.query('ROLLBACK');
    }
  });
});
