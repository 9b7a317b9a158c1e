// Message search (issue 14): one user with ~100,000 readable messages (direct chats with 20
// friends and 10 groups) in a table of 1,000,000 (English and Chinese text, some file uploads),
// search latency at the service (the SQL and the mapping, no HTTP) for queries of different kinds:
// common and rare words, two Chinese characters (too short for a trigram index), a file name, no
// match, and a second page. On PostgreSQL with the trigram indexes (pg_trgm), without them, and on
// PGlite at a smaller size (BENCH_SEARCH_PGLITE_MESSAGES, default 100,000 with 10,000 readable).
// The bigram index (no extension) is there in every run; on PostgreSQL, what it adds to an insert.
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { createFriendChat, type FriendChat } from '../backend/src/server.ts';
import { createSearchService } from '../backend/src/chat/search.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';
import { percentile } from './lib/load.ts';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const PGLITE_TOTAL = Number(process.env.BENCH_SEARCH_PGLITE_MESSAGES ?? 100_000);
const RUNS = Number(process.env.BENCH_SEARCH_RUNS ?? 50);
const ME = 'bench-user-0';

// Word lists for the generated text. Picks are skewed towards the front of each list (the
// square of a uniform number), so early words are common and late ones rare.
const EN = (
  'the you and to it is that for on we this my what with are have be can but just not so at all was do get if about ' +
  'like me your know will out up now good time when how one there see then think today tomorrow meeting dinner lunch ' +
  'coffee project report photo weekend travel ticket movie music game office home late early call later thanks sure ' +
  'maybe great nice cool sorry please deadline budget review design launch market price order delivery bike train ' +
  'airport hotel beach mountain river garden kitchen birthday party concert museum library invoice contract ' +
  'presentation spreadsheet quarterly headphones umbrella volcano'
).split(' ');
const ZH = (
  '我们 你好 今天 明天 时间 工作 朋友 一起 吃饭 晚上 周末 电影 喜欢 知道 觉得 现在 已经 可以 没有 什么 ' +
  '因为 所以 但是 如果 还是 这个 那个 东西 地方 问题 谢谢 不好意思 没关系 开会 项目 报告 照片 旅行 机票 ' +
  '咖啡 音乐 游戏 办公室 回家 迟到 电话 等一下 当然 也许 厉害 抱歉 截止 预算 设计 发布 市场 价格 订单 快递 ' +
  '自行车 火车 机场 酒店 海边 爬山 花园 厨房 生日 聚会 演唱会 博物馆 图书馆 发票 合同 火锅 长城 饺子'
).split(' ');

const sqlArray = (words: string[]) => `ARRAY[${words.map((w) => `'${w}'`).join(',')}]`;

/** The statements that fill the module's tables: `total` messages, ~10% of them readable by ME. */
function seedStatements(total: number): string[] {
  const groups = 110; // 10 of them mine
  const mine = Math.round(total / 10);
  const direct = Math.round(mine / 2); // with 20 friends, half sent by me
  const perMyGroup = Math.round((mine - direct) / 10);
  const others = total - direct - perMyGroup * 10;
  // A sentence: English or Chinese, 4–11 words; one in 2,000 ends with a rare word
  // ("xylophone", "熊猫") that the word lists do not hold.
  const text = (i: string) => `CASE WHEN random() < 0.5
      THEN array_to_string(ARRAY(SELECT (${sqlArray(EN)})[1 + floor(power(random(), 2) * ${EN.length})::int] FROM generate_series(0, 3 + ${i} % 8)), ' ')
           || CASE WHEN random() < 0.0005 THEN ' xylophone' ELSE '' END
      ELSE array_to_string(ARRAY(SELECT (${sqlArray(ZH)})[1 + floor(power(random(), 2) * ${ZH.length})::int] FROM generate_series(0, 3 + ${i} % 8)), '')
           || CASE WHEN random() < 0.0005 THEN '熊猫' ELSE '' END END`;
  // Times: one message every 100 ms up to now, in an order that mixes the sources.
  const at = (i: string) => `now() - make_interval(secs => (${total} - ${i}) / 10.0)`;
  return [
    `INSERT INTO "Group" (id, name, "ownerId", "memberCount", "createdAt")
     SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'group ' || g, 'bench-user-1', 20, now() - interval '400 days'
     FROM generate_series(1, ${groups}) g`,
    // I am a member of groups 1–10 (and left group 11); 19 others in each.
    `INSERT INTO "GroupMember" ("groupId", "userId", role, "joinedAt", "leftAt", "readAt")
     SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'bench-user-' || CASE WHEN k = 0 AND g <= 11 THEN 0 ELSE 1 + (g * 7 + k) % 999 END,
            'member', now() - interval '400 days', CASE WHEN k = 0 AND g = 11 THEN now() - interval '1 day' END, now()
     FROM generate_series(1, ${groups}) g, generate_series(0, 19) k ON CONFLICT DO NOTHING`,
    // Direct messages with my 20 friends (users 1–20), both directions.
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", content, "createdAt")
     SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN '${ME}' ELSE 'bench-user-' || (1 + i % 20) END,
            CASE WHEN i % 2 = 0 THEN 'bench-user-' || (1 + (i / 2) % 20) ELSE '${ME}' END, ${text('i')}, ${at('(i * 10)')}
     FROM generate_series(1, ${direct}) i`,
    // My groups' messages.
    `INSERT INTO "Message" (id, "fromUserId", "groupId", content, "createdAt")
     SELECT gen_random_uuid(), 'bench-user-' || (1 + i % 20), ('00000000-0000-4000-8000-' || lpad((1 + i % 10)::text, 12, '0'))::uuid,
            ${text('i')}, ${at('(i * 10 + 3)')}
     FROM generate_series(1, ${perMyGroup * 10}) i`,
    // Everyone else's: direct between other users, and the other groups (group 11, which I left, among them).
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", "groupId", content, "createdAt")
     SELECT gen_random_uuid(), 'bench-user-' || (21 + i % 979),
            CASE WHEN i % 3 = 0 THEN NULL ELSE 'bench-user-' || (21 + (i * 7) % 979) END,
            CASE WHEN i % 3 = 0 THEN ('00000000-0000-4000-8000-' || lpad((11 + i % 100)::text, 12, '0'))::uuid END,
            ${text('i')}, ${at(`(i::bigint * ${total} / ${others})`)}
     FROM generate_series(1, ${others}) i`,
    // One message in 20 carries a file: its caption stays, its name is searchable.
    `WITH f AS (
       SELECT id, "fromUserId", "createdAt", row_number() OVER () AS n FROM "Message" WHERE hashtext(id::text) % 20 = 0
     ), a AS (
       INSERT INTO "Attachment" (id, "uploaderId", kind, name, mime, size, "storageKey", "createdAt", "sentAt")
       SELECT gen_random_uuid(), "fromUserId", 'file',
              CASE n % 3 WHEN 0 THEN 'quarterly-report-' || n || '.pdf' WHEN 1 THEN 'IMG_' || n || '.jpg' ELSE '合同草稿-' || n || '.docx' END,
              'application/octet-stream', 1000, 'bench/' || n, "createdAt", "createdAt"
       FROM f RETURNING id, "storageKey"
     )
     UPDATE "Message" m SET "attachmentId" = a.id, kind = 'file' FROM f, a WHERE m.id = f.id AND a."storageKey" = 'bench/' || f.n`,
  ];
}

/** The queries timed, each `[label, q, options]`. */
const CASES: [string, string, { peerId?: string; kind?: 'file' }?][] = [
  ['common English word', 'meeting'],
  ['common word, three letters', 'the'],
  ['rare English word', 'xylophone'],
  ['two Chinese characters, common', '我们'],
  ['two Chinese characters, rare', '熊猫'],
  ['four Chinese characters', '不好意思'],
  ['two Latin letters', 'ab'],
  ['file name', 'quarterly-report-1'],
  ['no match', 'zzqqxxjj'],
  ['no match, two characters', '嗯嗯'],
  ['in one conversation', 'dinner', { peerId: 'bench-user-3' }],
  ['files only', 'report', { kind: 'file' }],
];

async function timeIt(runs: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 3; i++) await fn();
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

async function measure(chat: FriendChat, label: string, log: (s: string) => void) {
  // A service of its own: it asks once whether the trigram index exists.
  const search = createSearchService(chat.internals.db, chat.internals.services.attachments.present);
  const out: Record<string, unknown> = {};
  for (const [name, q, opts] of CASES) {
    const first = await search.search(ME, { q, limit: 20, ...opts });
    const r = await timeIt(RUNS, () => search.search(ME, { q, limit: 20, ...opts }));
    out[name] = { q, ...opts, results: first.results.length, ...r };
    log(`${label}: ${name} (${JSON.stringify(q)}, ${first.results.length} results): p50 ${r.p50} ms, p99 ${r.p99} ms`);
    if (name === 'common English word' && first.nextCursor) {
      const next = await timeIt(RUNS, () => search.search(ME, { q, limit: 20, before: first.nextCursor! }));
      out['common English word, page 2'] = { q, ...next };
      log(`${label}: ${name}, page 2: p50 ${next.p50} ms, p99 ${next.p99} ms`);
    }
  }
  return out;
}

const friendChatOptions = {
  identify: async () => null,
  users: { byIds: async (ids: string[]) => ids.map((id) => ({ id, username: id, displayName: id, avatarUrl: null })) },
  friends: { areFriends: async () => true, friendIds: async () => [] },
};

/** pg_trgm's schema, for re-creating the migration's indexes after the bulk load. */
const trgmIndexes = (schema: string) => [
  `CREATE INDEX IF NOT EXISTS "Message_content_trgm_idx" ON "Message" USING gin (content "${schema}".gin_trgm_ops)`,
  `CREATE INDEX IF NOT EXISTS "Attachment_name_trgm_idx" ON "Attachment" USING gin (name "${schema}".gin_trgm_ops)`,
];
const DROP_TRGM = [`DROP INDEX IF EXISTS "Message_content_trgm_idx"`, `DROP INDEX IF EXISTS "Attachment_name_trgm_idx"`];
/** The bigram index of migration 20261222000000_search_bigrams, also built once after the load. */
const BIGRAM_INDEX = `CREATE INDEX IF NOT EXISTS "Message_content_bigram_idx" ON "Message" USING gin ("cjk_bigrams"(content)) WHERE octet_length(content) <> length(content)`;
const DROP_BIGRAM = `DROP INDEX IF EXISTS "Message_content_bigram_idx"`;

/**
 * What the bigram index adds to a send: 10,000 messages inserted in one statement (Chinese texts,
 * then English ones, copied from the table) with the index and without it (dropped inside the
 * transaction), each rolled back; alternated 3 times, the median in µs per message.
 */
async function insertCost(c: pg.Client, log: (s: string) => void) {
  const out: Record<string, { withIndex: number; withoutIndex: number }> = {};
  for (const [lang, chinese] of [['Chinese', true], ['English', false]] as const) {
    const insert = `INSERT INTO "Message" (id, "fromUserId", "toUserId", content, "createdAt")
      SELECT gen_random_uuid(), "fromUserId", "toUserId", content, now() FROM "Message"
      WHERE "groupId" IS NULL AND (octet_length(content) <> length(content)) = ${chinese} LIMIT 10000`;
    const t: { with: number[]; without: number[] } = { with: [], without: [] };
    for (let i = 0; i < 3; i++) {
      for (const mode of ['with', 'without'] as const) {
        await c.query('BEGIN');
        try {
          if (mode === 'without') await c.query(DROP_BIGRAM);
          const s = performance.now();
          await c.query(insert);
          t[mode].push(((performance.now() - s) * 1000) / 10_000);
        } finally {
          await c.query('ROLLBACK');
        }
      }
    }
    const median = (a: number[]) => Math.round([...a].sort((x, y) => x - y)[1]! * 10) / 10;
    out[lang] = { withIndex: median(t.with), withoutIndex: median(t.without) };
    log(`PostgreSQL: inserting 10,000 ${lang} messages: ${out[lang].withIndex} µs/message with the bigram index, ${out[lang].withoutIndex} without`);
  }
  return out;
}

async function benchPostgres(log: (s: string) => void) {
  // BENCH_SEARCH_DB: a database a kept run (BENCH_SEARCH_KEEP=1) seeded already; used as it is.
  const reuse = process.env.BENCH_SEARCH_DB;
  const db = reuse ? { url: reuse, drop: async () => {} } : await createBenchDatabase();
  const chat = await createFriendChat({ database: { url: db.url }, ...friendChatOptions });
  const c = new pg.Client({ connectionString: db.url });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query(`SET search_path TO friendchat`);
    const { rows } = await c.query<{ s: string }>(`SELECT n.nspname AS s FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'pg_trgm'`);
    const trgmSchema = rows[0]?.s;
    if (!trgmSchema) throw new Error('the migration did not install pg_trgm');
    const t0 = performance.now();
    if (!reuse) {
      // The trigram indexes are built once after the load rather than row by row.
      for (const s of [...DROP_TRGM, DROP_BIGRAM]) await c.query(s);
      for (const s of seedStatements(TOTAL)) await c.query(s);
      for (const s of [...trgmIndexes(trgmSchema), BIGRAM_INDEX]) await c.query(s);
      await c.query('VACUUM ANALYZE');
    }
    const count = Number((await c.query(`SELECT count(*) FROM "Message"`)).rows[0].count);
    const readable = Number(
      (
        await c.query(
          `SELECT count(*) FROM "Message" m WHERE m."fromUserId" = $1 OR m."toUserId" = $1
             OR m."groupId" IN (SELECT "groupId" FROM "GroupMember" WHERE "userId" = $1 AND "leftAt" IS NULL)`,
          [ME],
        )
      ).rows[0].count,
    );
    const size = (
      await c.query(
        `SELECT pg_size_pretty(pg_relation_size('"Message_content_trgm_idx"')) AS s, pg_size_pretty(pg_relation_size('"Message_content_bigram_idx"')) AS b, pg_size_pretty(pg_relation_size('"Message"')) AS t`,
      )
    ).rows[0];
    log(
      `PostgreSQL: seeded ${count.toLocaleString('en')} messages (${readable.toLocaleString('en')} readable by the user) in ${Math.round((performance.now() - t0) / 1000)} s; table ${size.t}, trigram index ${size.s}, bigram index ${size.b}`,
    );
    const withIndex = await measure(chat, 'PostgreSQL, trigram index', log);
    for (const s of DROP_TRGM) await c.query(s);
    const withoutIndex = await measure(chat, 'PostgreSQL, no trigram index', log);
    for (const s of trgmIndexes(trgmSchema)) await c.query(s);
    const insertMicros = await insertCost(c, log);
    await c.query('VACUUM "Message"'); // the rolled-back rows, for a next run on a kept database
    return { messages: count, readable, tableSize: size.t, trigramIndexSize: size.s, bigramIndexSize: size.b, withIndex, withoutIndex, insertMicros };
  } finally {
    await c.end().catch(() => {});
    await chat.close();
    // BENCH_SEARCH_KEEP=1 keeps the database, to look at plans afterwards.
    if (process.env.BENCH_SEARCH_KEEP === '1' || reuse) log(`kept ${db.url}`);
    else await db.drop();
  }
}

async function benchPglite(log: (s: string) => void) {
  const pglite = new PGlite({ extensions: { pg_trgm } });
  const chat = await createFriendChat({ database: { pglite }, ...friendChatOptions });
  try {
    await pglite.exec(`SET search_path TO friendchat`);
    for (const s of [...DROP_TRGM, DROP_BIGRAM]) await pglite.exec(s);
    const t0 = performance.now();
    for (const s of seedStatements(PGLITE_TOTAL)) await pglite.exec(s);
    for (const s of [...trgmIndexes('friendchat'), BIGRAM_INDEX]) await pglite.exec(s);
    await pglite.exec('VACUUM ANALYZE');
    await pglite.exec(`SET search_path TO "$user", public`);
    log(`PGlite: seeded ${PGLITE_TOTAL.toLocaleString('en')} messages in ${Math.round((performance.now() - t0) / 1000)} s`);
    const withIndex = await measure(chat, 'PGlite, trigram index', log);
    for (const s of DROP_TRGM) await pglite.exec(`SET search_path TO friendchat; ${s}`);
    const withoutIndex = await measure(chat, 'PGlite, no trigram index', log);
    return { messages: PGLITE_TOTAL, withIndex, withoutIndex };
  } finally {
    await chat.close();
    await pglite.close();
  }
}

export async function benchSearch(log: (s: string) => void) {
  const postgres =
    process.env.BENCH_SEARCH_POSTGRES === 'false' ? null : (await pgAvailable()) ? await benchPostgres(log) : (log('PostgreSQL not reachable: skipped'), null);
  const pgliteResult = process.env.BENCH_SEARCH_PGLITE === 'false' ? null : await benchPglite(log);
  return { runs: RUNS, postgres, pglite: pgliteResult };
}
