// Read paths at scale (issue 6): history page and unread counts with 1,000,000 messages in
// the table, and a sync of 1,000 missed messages, over HTTP against one node on PostgreSQL.
import pg from 'pg';
import { loadConfig } from '../backend/src/config.ts';
import { createApp } from '../backend/src/app.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';
import { percentile } from './lib/load.ts';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const USERS = 1000;
const RUNS = 200;

async function timeIt(runs: number, fn: () => Promise<void>) {
  for (let i = 0; i < 10; i++) await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 100) / 100;
  return { runs, p50: r(percentile(t, 50)), p99: r(percentile(t, 99)), max: r(t.at(-1)!) };
}

export async function benchQueries(log: (s: string) => void) {
  if (!(await pgAvailable())) {
    log('PostgreSQL not reachable: skipped');
    return null;
  }
  const db = await createBenchDatabase();
  const config = loadConfig({}, { databaseUrl: db.url, jwtSecret: 'bench-secret-bench-secret-0123456789', logLevel: 'error' });
  const app = await createApp(config, { seed: false, staticDir: null });
  try {
    const url = await app.listen(0, '127.0.0.1');
    const c = new pg.Client({ connectionString: db.url });
    // The database is dropped (its connections terminated) at the end, whatever happened.
    c.on('error', () => {});
    await c.connect();
    log(`seeding ${USERS} users and ${TOTAL.toLocaleString('en')} messages…`);
    const t0 = performance.now();
    await c.query(`INSERT INTO "User" (id, username, "passwordHash", "displayName")
      SELECT gen_random_uuid(), 'q' || i, 'x', 'User ' || i FROM generate_series(0, ${USERS - 1}) i`);
    const { rows: users } = await c.query<{ id: string }>(`SELECT id FROM "User" ORDER BY username`);
    // Pairs (0,1), (2,3)… are friends; user 0 and 1 form the busiest conversation.
    await c.query(`WITH u AS (SELECT id, row_number() OVER (ORDER BY username) - 1 AS n FROM "User")
      INSERT INTO "Follow" ("followerId", "followeeId") SELECT a.id, b.id FROM u a JOIN u b ON b.n = (a.n # 1)`);
    await c.query(`
      WITH u AS (SELECT array_agg(id ORDER BY username) AS ids FROM "User")
      INSERT INTO "Message" (id, "fromUserId", "toUserId", "messageType", content, "isRead", "createdAt")
      SELECT gen_random_uuid(),
             CASE WHEN i % 10 = 9 THEN NULL ELSE u.ids[1 + (i % ${USERS})] END,
             u.ids[1 + ((i % ${USERS}) # 1)],
             (CASE WHEN i % 10 = 9 THEN 'SYSTEM_TASK' ELSE 'CHAT' END)::"MessageType",
             'message number ' || i,
             random() > 0.02,
             now() - make_interval(secs => (${TOTAL} - i) / 10.0)
      FROM generate_series(1, ${TOTAL}) i, u`);
    await c.query('ANALYZE');
    log(`seeded in ${Math.round((performance.now() - t0) / 1000)} s`);

    const me = users[0]!.id;
    const peer = users[1]!.id;
    const token = app.tokens.sign(me);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- bench answers are checked by use
  const get = async (path: string): Promise<any> => {
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return res.json();
    };
    const conversation = Number((await c.query(`SELECT count(*) FROM "Message" WHERE ("fromUserId", "toUserId") IN (($1, $2), ($2, $1))`, [me, peer])).rows[0].count);
    // Over HTTP (fetch from this same process, so the client's own cost is in it too), and the
    // service call alone (the database work and mapping, no HTTP). The floor of any request in
    // this harness: GET /api/health, whose only work is one SELECT 1.
    const floor = await timeIt(RUNS, async () => void (await get('/api/health')));
    log(`HTTP floor (GET /api/health): p50 ${floor.p50} ms, p99 ${floor.p99} ms`);
    const history = await timeIt(RUNS, async () => void (await get(`/api/messages/${peer}?limit=50`)));
    const historyService = await timeIt(RUNS, async () => void (await app.services.messages.history(me, peer, undefined, 50)));
    log(
      `history page (50 of the ${conversation} in the conversation): HTTP p50 ${history.p50} ms, p99 ${history.p99} ms; service p50 ${historyService.p50} ms, p99 ${historyService.p99} ms`,
    );
    const unread = await timeIt(RUNS, async () => void (await get('/api/messages/unread/count')));
    const unreadService = await timeIt(RUNS, async () => void (await app.services.unread.counts(me)));
    log(`unread counts: HTTP p50 ${unread.p50} ms, p99 ${unread.p99} ms; service p50 ${unreadService.p50} ms, p99 ${unreadService.p99} ms`);

    // 1,000 messages arrive while the user is away; the client pages through them from its cursor.
    const { nextCursor: cursor } = await get('/api/messages/sync?limit=1');
    const last = await get(`/api/messages/sync?after=${cursor}&limit=100`);
    let resume: string = last.nextCursor;
    for (let more = last.hasMore; more; ) {
      const page = await get(`/api/messages/sync?after=${resume}&limit=100`);
      resume = page.nextCursor;
      more = page.hasMore;
    }
    await c.query(
      `INSERT INTO "Message" (id, "fromUserId", "toUserId", content, "createdAt")
       SELECT gen_random_uuid(), $1, $2, 'missed ' || i, now() - make_interval(secs => (1001 - i) / 1000.0) FROM generate_series(1, 1000) i`,
      [peer, me],
    );
    const sync = await timeIt(50, async () => {
      let after = resume;
      let n = 0;
      for (;;) {
        const page = await get(`/api/messages/sync?after=${after}&limit=100`);
        n += page.messages.length;
        after = page.nextCursor;
        if (!page.hasMore) break;
      }
      if (n !== 1000) throw new Error(`sync returned ${n} messages, expected 1000`);
    });
    log(`sync of 1,000 missed messages (10 pages of 100): p50 ${sync.p50} ms, p99 ${sync.p99} ms`);
    await c.end();
    return {
      messages: TOTAL,
      users: USERS,
      conversation,
      httpFloor: floor,
      historyPage: history,
      historyPageService: historyService,
      unreadCounts: unread,
      unreadCountsService: unreadService,
      sync1000: sync,
    };
  } finally {
    await app.close();
    await db.drop();
  }
}
