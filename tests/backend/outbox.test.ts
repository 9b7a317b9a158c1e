// The `messageSent` outbox (backend/src/chat/outbox.ts): the host's hook runs after the send is
// answered, from a row stored with the message; at least once, even when the node that stored it
// is gone; never by two nodes at once; retried when it throws. And the statement timeout of the
// module's PostgreSQL connections.
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { afterEach, describe, expect, it } from 'vitest';
import { createFriendChat, type ChatUser, type FriendChat, type FriendChatOptions, type WireMessage } from 'friend-chat/server';
import { createTestDatabase, dbTargets, type DbTarget, type TestDatabase } from '../helpers/db.ts';
import { waitUntil } from '../helpers/chat.ts';
import { sleep } from '../helpers/wait.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { startServer } from '../helpers/server.ts';

const USERS: ChatUser[] = ['42', '43', '44'].map((id) => ({ id, username: `u${id}`, displayName: `U${id}`, avatarUrl: null }));

describe.each(dbTargets())('the messageSent outbox on %s', (target: DbTarget) => {
  const opened: FriendChat[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close();
    for (const c of cleanups.splice(0)) await c();
  });

  /** A fresh database: the PGlite instance, or a PostgreSQL url. */
  async function freshDatabase(): Promise<FriendChatOptions['database']> {
    if (target === 'pglite') {
      const pglite = new PGlite();
      cleanups.push(() => pglite.close());
      return { pglite };
    }
    const tdb: TestDatabase = await createTestDatabase(target);
    cleanups.push(() => tdb.drop());
    return { url: tdb.url! };
  }

  async function start(database: FriendChatOptions['database'], opts: Partial<FriendChatOptions> = {}): Promise<FriendChat> {
    const chat = await createFriendChat({
      database,
      identify: (t) => t,
      users: { byIds: async (ids) => USERS.filter((u) => ids.includes(u.id)) },
      friends: { areFriends: async () => true, friendIds: async (id) => USERS.map((u) => u.id).filter((x) => x !== id) },
      ...opts,
    });
    opened.push(chat);
    return chat;
  }
  const stop = async (chat: FriendChat) => {
    opened.splice(opened.indexOf(chat), 1);
    await chat.close();
  };
  const rows = (chat: FriendChat) =>
    chat.internals.db.sql<{ messageId: string; attempts: number; lastError: string | null; failed: boolean }>(
      `SELECT "messageId"::text AS "messageId", attempts, "lastError", "failedAt" IS NOT NULL AS failed FROM ${chat.internals.db.table('HookOutbox')} ORDER BY "createdAt", "messageId"`,
    );

  it('answers the send before the hook finishes, then runs it once and deletes its row', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const finished: string[] = [];
    const chat = await start(await freshDatabase(), {
      hooks: {
        async messageSent(m) {
          started.push(m.id);
          await gate;
          finished.push(m.id);
        },
      },
    });
    const { message, created } = await chat.send({ from: '42', to: '43', content: 'first' });
    expect(created).toBe(true);
    // Answered while the hook has not finished (it may not even have started).
    expect(finished).toEqual([]);
    // The row was stored with the message, leased to this node (its first attempt).
    expect(await rows(chat)).toEqual([{ messageId: message.id, attempts: 1, lastError: null, failed: false }]);
    await waitUntil(() => started.length === 1, 5000, 'the hook to start');
    expect(started).toEqual([message.id]);
    // A resend of the same clientId is not another message: no second row, no second call.
    const again = await chat.send({ from: '42', to: '43', content: 'x', clientId: 'c1' });
    const resend = await chat.send({ from: '42', to: '43', content: 'x', clientId: 'c1' });
    expect(resend.created).toBe(false);
    release();
    await waitUntil(async () => (await rows(chat)).length === 0, 5000, 'the rows to be deleted');
    await sleep(100);
    expect(finished.sort()).toEqual([message.id, again.message.id].sort());
    expect(started).toHaveLength(2);
  });

  it('calls the hook exactly once per message sent: direct, group, rich, a burst of them', async () => {
    const calls = new Map<string, number>();
    const seen: WireMessage[] = [];
    const chat = await start(await freshDatabase(), {
      hooks: {
        messageSent(m) {
          calls.set(m.id, (calls.get(m.id) ?? 0) + 1);
          seen.push(m);
        },
      },
      outbox: { concurrency: 2 },
    });
    const { messages, groups } = chat.internals.services;
    const group = await groups.create('42', { name: 'g', memberIds: ['43', '44'], visibility: 'private' });
    const sent = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => chat.send({ from: USERS[i % 3]!.id, to: USERS[(i + 1) % 3]!.id, content: `m${i}` })),
      ...Array.from({ length: 10 }, (_, i) => messages.send({ from: USERS[i % 3]!.id, groupId: group.id, content: `g${i}` })),
      messages.send({ from: '42', to: '44', content: '', location: { lat: 1, lng: 2 } }),
      messages.send({ from: '43', groupId: group.id, content: 'here', location: { lat: 3, lng: 4 } }),
    ]);
    const ids = sent.map((s) => s.message.id);
    await waitUntil(async () => calls.size === ids.length && (await rows(chat)).length === 0, 10_000, 'every hook, every row deleted');
    await sleep(200);
    expect([...calls.keys()].sort()).toEqual([...ids].sort());
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    // The hook gets the message as the sender's answer showed it.
    const byId = new Map(seen.map((m) => [m.id, m]));
    for (const s of sent) expect(byId.get(s.message.id)).toEqual(s.message);
  });

  it('stores rows and calls the hook only for the messages wantsMessageSent accepts (direct, group, rich, in one batch)', async () => {
    const calls: string[] = [];
    const asked: { fromUserId: string; toUserId: string | null; groupId: string | null }[] = [];
    // Only user 42's messages are wanted (a "first message" achievement that knows 43 and 44 have it).
    const chat = await start(await freshDatabase(), {
      hooks: {
        messageSent: (m) => void calls.push(m.id),
        wantsMessageSent: (m) => (asked.push(m), m.fromUserId === '42'),
      },
    });
    const { messages, groups } = chat.internals.services;
    const group = await groups.create('42', { name: 'g', memberIds: ['43', '44'], visibility: 'private' });
    const sent = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => chat.send({ from: USERS[i % 3]!.id, to: USERS[(i + 1) % 3]!.id, content: `m${i}` })),
      ...Array.from({ length: 6 }, (_, i) => messages.send({ from: USERS[i % 3]!.id, groupId: group.id, content: `g${i}` })),
      messages.send({ from: '42', to: '44', content: '', location: { lat: 1, lng: 2 } }),
      messages.send({ from: '43', to: '44', content: '', location: { lat: 1, lng: 2 } }),
    ]);
    const wanted = sent.filter((s) => s.message.fromUserId === '42').map((s) => s.message.id);
    expect(wanted.length).toBe(4 + 2 + 1);
    // Asked once per message, with who sends it where.
    expect(asked.length).toBe(sent.length);
    expect(asked.filter((a) => a.groupId === group.id)).toHaveLength(6);
    await waitUntil(async () => calls.length === wanted.length && (await rows(chat)).length === 0, 10_000, 'the wanted hooks');
    await sleep(200);
    expect(calls.sort()).toEqual(wanted.sort());
    // The others were stored with no outbox row at all (none left behind for a poller either).
    expect(await rows(chat)).toEqual([]);
  });

  it('stores no outbox row when the host gives no hook', async () => {
    const chat = await start(await freshDatabase());
    await chat.send({ from: '42', to: '43', content: 'hi' });
    expect(await rows(chat)).toEqual([]);
    expect(chat.internals.outbox).toBeNull();
  });

  it('runs the rows a node left behind (it died before their hooks) when a node starts', async () => {
    const database = await freshDatabase();
    // The node that "died": it stored messages and their rows, and never ran the hooks.
    const dead = await start(database);
    const sent = [await dead.send({ from: '42', to: '43', content: 'a' }), await dead.send({ from: '43', to: '42', content: 'b' })];
    const db = dead.internals.db;
    await db.sql(
      `INSERT INTO ${db.table('HookOutbox')} ("messageId", "runAt", attempts)
       SELECT unnest($1::uuid[]), (now() AT TIME ZONE 'UTC') - interval '1 second', 1`,
      [sent.map((s) => s.message.id)],
    );
    // A message deleted meanwhile leaves a row with nothing to run: dropped.
    await db.sql(`INSERT INTO ${db.table('HookOutbox')} ("messageId", "runAt", attempts) VALUES ($1::uuid, now() AT TIME ZONE 'UTC', 1)`, [randomUUID()]);
    // One still under the dead node's lease is left alone until it ends.
    const leased = await dead.send({ from: '44', to: '42', content: 'c' });
    await db.sql(`INSERT INTO ${db.table('HookOutbox')} ("messageId", "runAt", attempts) VALUES ($1::uuid, (now() AT TIME ZONE 'UTC') + interval '1 hour', 1)`, [leased.message.id]);
    await stop(dead);

    const got: WireMessage[] = [];
    const next = await start(database, { hooks: { messageSent: (m) => void got.push(m) }, outbox: { pollIntervalMs: 50 } });
    await waitUntil(async () => (await rows(next)).length === 1, 5000, 'the left rows to run');
    expect(got.map((m) => m.id).sort()).toEqual(sent.map((s) => s.message.id).sort());
    expect(got.find((m) => m.id === sent[0]!.message.id)).toEqual(sent[0]!.message);
    expect((await rows(next)).map((r) => r.messageId)).toEqual([leased.message.id]);
  });

  it('never runs one row on two nodes at once: each of 150 left rows runs once', async () => {
    const database = await freshDatabase();
    const seed = await start(database);
    const sent = await Promise.all(Array.from({ length: 150 }, (_, i) => seed.send({ from: USERS[i % 3]!.id, to: USERS[(i + 2) % 3]!.id, content: `x${i}` })));
    const db = seed.internals.db;
    await db.sql(
      `INSERT INTO ${db.table('HookOutbox')} ("messageId", "runAt", attempts) SELECT unnest($1::uuid[]), now() AT TIME ZONE 'UTC', 1`,
      [sent.map((s) => s.message.id)],
    );
    await stop(seed);

    const runs: { node: string; id: string }[] = [];
    const busy = new Map<string, number>();
    let overlap = 0;
    // Hooks wait until both nodes are up, so both have claimed rows before any finishes.
    let bothUp!: () => void;
    const up = new Promise<void>((r) => (bothUp = r));
    const node = (name: string) => ({
      hooks: {
        async messageSent(m: WireMessage) {
          await up;
          runs.push({ node: name, id: m.id });
          busy.set(m.id, (busy.get(m.id) ?? 0) + 1);
          if (busy.get(m.id)! > 1) overlap++;
          await sleep(Math.random() * 10);
          busy.set(m.id, busy.get(m.id)! - 1);
        },
      },
      // Small claims and quick polls: the two nodes compete for the same rows all along.
      outbox: { pollIntervalMs: 10, concurrency: 3, maxQueued: 5 },
    });
    const a = await start(database, node('a'));
    await start(database, node('b'));
    bothUp();
    await waitUntil(async () => (await rows(a)).length === 0, 15_000, 'every row to run');
    await sleep(200);
    expect(overlap).toBe(0);
    expect(runs).toHaveLength(150);
    expect(new Set(runs.map((r) => r.id)).size).toBe(150);
    // Both took part (on PostgreSQL each claims while the other's rows are locked or leased).
    expect(new Set(runs.map((r) => r.node))).toEqual(new Set(['a', 'b']));
  });

  it('retries a hook that throws, with backoff, and gives up after maxAttempts keeping the row', async () => {
    const database = await freshDatabase();
    const calls = new Map<string, number>();
    const chat = await start(database, {
      hooks: {
        messageSent(m) {
          const n = (calls.get(m.id) ?? 0) + 1;
          calls.set(m.id, n);
          // "flaky" fails twice then works; "broken" always fails.
          if (m.content === 'broken' || n <= 2) throw new Error(`hook failed (${m.content}, call ${n})`);
        },
      },
      outbox: { pollIntervalMs: 20, retryBaseMs: 30, maxAttempts: 3 },
      logger: { error: () => {}, info: () => {}, debug: () => {} },
    });
    const flaky = await chat.send({ from: '42', to: '43', content: 'flaky' });
    const broken = await chat.send({ from: '43', to: '42', content: 'broken' });
    await waitUntil(
      async () => {
        const r = await rows(chat);
        return r.length === 1 && r[0]!.failed;
      },
      10_000,
      'the flaky hook to succeed and the broken one to give up',
    );
    await sleep(300);
    expect(calls.get(flaky.message.id)).toBe(3);
    expect(calls.get(broken.message.id)).toBe(3);
    const [row] = await rows(chat);
    expect(row).toMatchObject({ messageId: broken.message.id, attempts: 3, failed: true });
    expect(row!.lastError).toContain('hook failed (broken, call 3)');
  });

  it('hands queued work back on close, so the next node runs it without waiting for the lease', async () => {
    const database = await freshDatabase();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = await start(database, {
      hooks: { messageSent: () => gate },
      outbox: { concurrency: 1 },
    });
    const sent = [await first.send({ from: '42', to: '43', content: '1' }), await first.send({ from: '42', to: '43', content: '2' })];
    await waitUntil(() => first.internals.outbox!.pending() === 2, 5000, 'one running, one queued');
    setTimeout(release, 100);
    await stop(first);
    const got: string[] = [];
    const second = await start(database, { hooks: { messageSent: (m) => void got.push(m.id) }, outbox: { pollIntervalMs: 50 } });
    await waitUntil(async () => (await rows(second)).length === 0, 5000, 'the handed-back row to run');
    // The one that was running finished before close; the queued one ran on the next node.
    expect(got).toEqual([sent[1]!.message.id]);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('the statement timeout on PostgreSQL', () => {
  let tdb: TestDatabase;
  const opened: FriendChat[] = [];
  afterEach(async () => {
    for (const c of opened.splice(0)) await c.close();
    await tdb?.drop();
  });
  const start = async (statementTimeoutMs?: number) => {
    tdb = await createTestDatabase('postgres');
    const chat = await createFriendChat({
      database: { url: tdb.url!, statementTimeoutMs },
      identify: (t) => t,
      users: { byIds: async () => [] },
      friends: { areFriends: async () => false, friendIds: async () => [] },
    });
    opened.push(chat);
    return chat;
  };

  it('cancels a statement of the module that runs past it, and the pool goes on', async () => {
    const chat = await start(300);
    const db = chat.internals.db;
    expect(await db.sql(`SELECT current_setting('statement_timeout') AS t`)).toEqual([{ t: '300ms' }]);
    await expect(db.sql('SELECT pg_sleep(2)')).rejects.toMatchObject({ code: '57014' });
    expect(await db.sql('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    // Migrations lifted it and gave it back: the migration session is back in the pool with it.
    const all = await Promise.all(Array.from({ length: 10 }, () => db.sql<{ t: string }>(`SELECT current_setting('statement_timeout') AS t, pg_sleep(0.05)`)));
    expect(new Set(all.map((r) => r[0]!.t))).toEqual(new Set(['300ms']));
  });

  it('the demo app hands DB_STATEMENT_TIMEOUT_MS to the pool of the module', async () => {
    const s = await startServer({ target: 'postgres', config: { dbStatementTimeoutMs: 1234 } });
    try {
      expect(await s.app.db.sql(`SELECT current_setting('statement_timeout') AS t`)).toEqual([{ t: '1234ms' }]);
    } finally {
      await s.close();
    }
  });

  it('the demo app hands DB_PREPARED_STATEMENTS to the pool of the module', async () => {
    // Named prepared statements of the session the query runs on (its own, once prepared).
    const mine = `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE '%pg_prepared_statements%'`;
    const s = await startServer({ target: 'postgres', config: { dbPreparedStatements: false } });
    try {
      expect(await s.app.db.prepared(mine)).toEqual([{ n: 0 }]);
    } finally {
      await s.close();
    }
  });

  it('defaults to 30 s, and 0 turns it off', async () => {
    const chat = await start();
    expect(await chat.internals.db.sql(`SELECT current_setting('statement_timeout') AS t`)).toEqual([{ t: '30s' }]);
    await chat.close();
    opened.splice(0);
    await tdb.drop();
    const off = await start(0);
    expect(await off.internals.db.sql(`SELECT current_setting('statement_timeout') AS t`)).toEqual([{ t: '0' }]);
  });
});

describe('the statement timeout setting', () => {
  it('DB_PREPARED_STATEMENTS: on by default, false or 0 turns it off, anything else is refused', () => {
    expect(loadConfig({}).dbPreparedStatements).toBe(true);
    expect(loadConfig({ DB_PREPARED_STATEMENTS: 'false' }).dbPreparedStatements).toBe(false);
    expect(loadConfig({ DB_PREPARED_STATEMENTS: '0' }).dbPreparedStatements).toBe(false);
    expect(() => loadConfig({ DB_PREPARED_STATEMENTS: 'sometimes' })).toThrow();
  });

  it('DB_STATEMENT_TIMEOUT_MS: 30 s by default, 0 for none, whole ms only', () => {
    expect(loadConfig({}).dbStatementTimeoutMs).toBe(30_000);
    expect(loadConfig({ DB_STATEMENT_TIMEOUT_MS: '0' }).dbStatementTimeoutMs).toBe(0);
    expect(loadConfig({ DB_STATEMENT_TIMEOUT_MS: '1500' }).dbStatementTimeoutMs).toBe(1500);
    for (const bad of ['-1', '1.5', 'soon']) expect(() => loadConfig({ DB_STATEMENT_TIMEOUT_MS: bad }), bad).toThrow(/DB_STATEMENT_TIMEOUT_MS/);
  });

  it('refuses a statementTimeoutMs that is not a whole number of ms before connecting', async () => {
    for (const bad of [-1, 1.5, Number.NaN]) {
      await expect(
        createFriendChat({
          database: { url: 'postgresql://nobody@127.0.0.1:1/none', statementTimeoutMs: bad },
          identify: () => null,
          users: { byIds: async () => [] },
          friends: { areFriends: async () => false, friendIds: async () => [] },
        }),
      ).rejects.toThrow(/statementTimeoutMs/);
    }
  });
});
