// Group chat (issue 12). Two parts:
//
// 1. Fan-out: a 500-member group with every member connected (500 real socket.io-client clients
//    in this process), messages from random members. Each message is timed from its send until
//    the last of the 499 other members received it ("all in"), and until the first did. A
//    steady phase (20 msgs/s for 30 s), then rising rates until the target falls behind (the
//    saturation: the highest rate at which every message reached every member with the last
//    receipt's p99 under 1 s). Targets, in one run: the bare relay (same events, one emit to a
//    room, no database) and the app (PostgreSQL; PGlite too).
// 2. Service: group history and unread counts with 1,000 groups × 1,000 messages, at the
//    service (no HTTP), on PostgreSQL and PGlite.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connectClients, disconnectAll, percentile, type Client } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';
import { loadConfig } from '../backend/src/config.ts';
import { createApp } from '../backend/src/app.ts';

const MEMBERS = Number(process.env.BENCH_GROUP_MEMBERS ?? 500);
const STEADY_RATE = Number(process.env.BENCH_GROUP_RATE ?? 20);
const STEADY_SECONDS = Number(process.env.BENCH_GROUP_SECONDS ?? 30);
const STEPS = (process.env.BENCH_GROUP_STEPS ?? '40,60,80,100,120,160,200,240,320').split(',').map(Number);
const STEP_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const GROUPS = Number(process.env.BENCH_GROUPS ?? 1000);
const PER_GROUP = Number(process.env.BENCH_GROUP_MESSAGES ?? 1000);
const RUNS = 200;
/** Which parts run: `fanout`, `service` (comma-separated; default both). */
const PARTS = (process.env.BENCH_GROUP_PARTS ?? 'fanout,service').split(',');
/**
 * `BENCH_GROUP_KEEP=1`: the service part keeps what it seeded, for investigation (EXPLAIN): the
 * PostgreSQL database (its URL is logged; drop it by hand) and the PGlite directory (its path is
 * logged; remove it by hand). Left as the last unread case leaves it: "me" (`bench-user-0`) a
 * member of every group, 0–100 unread in each.
 */
const KEEP = process.env.BENCH_GROUP_KEEP === '1';

export interface FanoutPhase {
  rate: number;
  seconds: number;
  sent: number;
  acked: number;
  errors: Record<string, number>;
  /** Messages every one of the other members received. */
  allIn: number;
  /** Receipts per second over the phase (each message counts once per member reached). */
  receiptsPerSecond: number;
  /** Send → the first member's receipt. */
  first: { p50: number; p99: number };
  /** Send → the last member's receipt (messages that reached everyone). */
  last: { p50: number; p99: number; max: number };
}

const round = (n: number) => Math.round(n * 100) / 100;

/**
 * Offers `rate` group messages per second for `seconds` from random members (or from each member
 * in turn: `inTurn`), then waits up to `drainMs` for the rest.
 */
async function fanoutPhase(
  clients: Client[],
  groupId: string,
  rate: number,
  seconds: number,
  tag: string,
  { drainMs = 5000, inTurn = false } = {},
): Promise<FanoutPhase> {
  const others = clients.length - 1;
  const pending = new Map<string, { t0: number; got: number; first: number }>();
  const firsts: number[] = [];
  const lasts: number[] = [];
  const errors: Record<string, number> = {};
  let receipts = 0;
  let acked = 0;
  const listeners: [Client, (p: { message: { clientId: string | null; groupId?: string | null } }) => void][] = [];
  for (const c of clients) {
    const fn = (p: { message: { clientId: string | null; groupId?: string | null } }) => {
      if (p.message.groupId !== groupId || !p.message.clientId) return;
      const m = pending.get(p.message.clientId);
      if (!m) return;
      receipts++;
      const now = performance.now();
      if (m.got++ === 0) firsts.push(now - m.t0);
      if (m.got === others) {
        lasts.push(now - m.t0);
        pending.delete(p.message.clientId);
      }
    };
    c.socket.on('chat:message', fn);
    listeners.push([c, fn]);
  }
  const total = Math.round(rate * seconds);
  let sent = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (sent < due) {
        const from = clients[inTurn ? sent % clients.length : Math.floor(Math.random() * clients.length)]!;
        const clientId = `${tag}-${sent}-${randomUUID().slice(0, 8)}`;
        pending.set(clientId, { t0: performance.now(), got: 0, first: 0 });
        from.socket.emit('chat:send', { groupId, content: `group message ${sent}`, clientId }, (res: { ok: boolean; error?: { code: string } }) => {
          if (res.ok) acked++;
          else {
            const code = res.error?.code ?? 'UNKNOWN';
            errors[code] = (errors[code] ?? 0) + 1;
            pending.delete(clientId);
          }
        });
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
  const drainUntil = performance.now() + drainMs;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  const end = performance.now();
  for (const [c, fn] of listeners) c.socket.off('chat:message', fn);
  firsts.sort((a, b) => a - b);
  lasts.sort((a, b) => a - b);
  return {
    rate,
    seconds,
    sent,
    acked,
    errors,
    allIn: lasts.length,
    receiptsPerSecond: Math.round((receipts / (end - start)) * 1000),
    first: { p50: round(percentile(firsts, 50)), p99: round(percentile(firsts, 99)) },
    last: { p50: round(percentile(lasts, 50)), p99: round(percentile(lasts, 99)), max: round(lasts.at(-1) ?? NaN) },
  };
}

interface FanoutResult {
  target: string;
  members: number;
  steady: FanoutPhase;
  saturation: FanoutPhase | null;
  steps: FanoutPhase[];
}

async function measureFanout(name: string, target: Target, log: (s: string) => void): Promise<FanoutResult> {
  const clients = await connectClients([target.url], target.users.slice(0, MEMBERS), 100);
  try {
    const groupId = target.groupId!;
    // Warm-up: JIT, pools, caches, and every member's first message (the demo host unlocks an
    // achievement on a user's first message, in a transaction of its own: a one-time cost that
    // is not the fan-out; at 100 first messages a second its transactions time out).
    await fanoutPhase(clients, groupId, 25, clients.length / 25, 'warm', { inTurn: true });
    await new Promise((res) => setTimeout(res, 1000));
    const steady = await fanoutPhase(clients, groupId, STEADY_RATE, STEADY_SECONDS, 'steady');
    log(
      `${name}: ${STEADY_RATE}/s for ${STEADY_SECONDS}s → ${steady.allIn}/${steady.sent} reached all ${MEMBERS - 1}; last receipt p50 ${steady.last.p50} ms, p99 ${steady.last.p99} ms (first p50 ${steady.first.p50} ms); ${steady.receiptsPerSecond} receipts/s ${JSON.stringify(steady.errors)}`,
    );
    const steps: FanoutPhase[] = [];
    let saturation: FanoutPhase | null = null;
    for (const [i, rate] of STEPS.entries()) {
      const r = await fanoutPhase(clients, groupId, rate, STEP_SECONDS, `s${i}`);
      steps.push(r);
      log(`${name}: step ${rate}/s → ${r.allIn}/${r.sent} reached all, last p99 ${r.last.p99} ms, ${r.receiptsPerSecond} receipts/s ${JSON.stringify(r.errors)}`);
      if (r.allIn !== r.sent || r.last.p99 > 1000) break;
      saturation = r;
      await new Promise((res) => setTimeout(res, 500));
    }
    return { target: name, members: clients.length, steady, saturation, steps };
  } finally {
    disconnectAll(clients);
  }
}

async function timeIt(runs: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 10; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    await fn();
    t.push(performance.now() - s);
  }
  t.sort((a, b) => a - b);
  return { runs, p50: round(percentile(t, 50)), p99: round(percentile(t, 99)), max: round(t.at(-1)!) };
}

/** The group part of the unread counts before the message numbers (a count over the messages after readAt). */
const PREVIOUS_GROUP_COUNT = `
  SELECT gm."userId", gm."groupId"::text, c.n FROM friendchat."GroupMember" gm
   CROSS JOIN LATERAL (
     SELECT count(*)::int AS n FROM friendchat."Message" m
      WHERE m."groupId" = gm."groupId" AND m."createdAt" > gm."readAt" AND m."messageType" = 'CHAT'
        AND m."deletedAt" IS NULL AND m."fromUserId" <> gm."userId") c
   WHERE gm."userId" = ANY($1::text[]) AND gm."leftAt" IS NULL AND c.n > 0`;

/** Group history and unread counts at the service, 1,000 groups × 1,000 messages, on PostgreSQL or PGlite. */
async function benchGroupService(log: (s: string) => void, target: 'postgres' | 'pglite') {
  const pgDb = target === 'postgres' ? await createBenchDatabase() : null;
  const dir = target === 'pglite' ? mkdtempSync(path.join(tmpdir(), 'fc-bench-groups-')) : null;
  const config = loadConfig(
    {},
    { databaseUrl: pgDb?.url, pgliteDir: dir ? path.join(dir, 'pglite') : undefined, jwtSecret: 'bench-secret-bench-secret-0123456789', logLevel: 'error' },
  );
  const app = await createApp(config, { seed: false, staticDir: null });
  // Seeding and read positions: a connection of its own on PostgreSQL, the app's one on PGlite.
  const c = pgDb ? new pg.Client({ connectionString: pgDb.url }) : null;
  c?.on('error', () => {});
  const q = async (text: string, params: unknown[] = []) =>
    c ? (await c.query(text, params)).rows : await app.chat.internals.db.sql<Record<string, unknown>>(text, params);
  const name = target === 'postgres' ? 'PostgreSQL' : 'PGlite';
  try {
    await c?.connect();
    const t0 = performance.now();
    const { groups, unread } = app.chat.internals.services;
    // 1,000 users; 1,000 groups of 20 members each (a window of users), 1,000 messages each from
    // its members, one a second, numbered 1…1,000 as the writers number them; user 0 ("me") is a
    // member of every group.
    const users = Array.from({ length: 1000 }, (_, i) => `bench-user-${i}`);
    const me = users[0]!;
    await q(
      `INSERT INTO friendchat."Group" (id, name, "ownerId", "memberCount", "createdAt", "lastSeq")
       SELECT gen_random_uuid(), 'group ' || g, 'bench-user-0', 20, now() - interval '2 days', $2::int FROM generate_series(1, $1::int) g`,
      [GROUPS, PER_GROUP],
    );
    const gs = (await q(`SELECT id FROM friendchat."Group" ORDER BY name`)) as { id: string }[];
    await q(
      `INSERT INTO friendchat."GroupMember" ("groupId", "userId", role, "joinedAt", "readAt")
       SELECT g.id, 'bench-user-' || CASE WHEN k = 0 THEN 0 ELSE 1 + ((g.n * 7 + k) % 999) END,
              CASE WHEN k = 0 THEN 'owner' ELSE 'member' END, now() - interval '2 days', now() - interval '2 days'
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM friendchat."Group") g, generate_series(0, 19) k`,
    );
    await q(
      `INSERT INTO friendchat."Message" (id, "fromUserId", "groupId", content, "createdAt", seq)
       SELECT gen_random_uuid(), 'bench-user-' || CASE WHEN i % 20 = 0 THEN 0 ELSE 1 + ((g.n * 7 + i % 20) % 999) END,
              g.id, 'message number ' || i, now() - interval '1 day' + make_interval(secs => i + g.n / 1000.0), i
       FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM friendchat."Group") g, generate_series(1, $1::int) i`,
      [PER_GROUP],
    );
    await q('ANALYZE');
    const total = Number(((await q(`SELECT count(*)::int AS n FROM friendchat."Message"`)) as { n: number }[])[0]!.n);
    log(`${name}: seeded ${GROUPS} groups × ${PER_GROUP} messages (${total.toLocaleString('en')} messages) in ${Math.round((performance.now() - t0) / 1000)} s`);

    /**
     * My read position in every group: `unreadPerGroup` messages from its end (random 0…n when
     * `random`), as a read leaves it (readSeq, readAt, and my own messages after it in sentSinceRead).
     */
    const setReadPositions = async (unreadPerGroup: number, random: boolean) => {
      await q(
        `WITH k AS (
           SELECT gm."groupId", g."lastSeq" - ${random ? `floor(random() * ${unreadPerGroup + 1})::int` : unreadPerGroup} AS pos
           FROM friendchat."GroupMember" gm JOIN friendchat."Group" g ON g.id = gm."groupId" WHERE gm."userId" = $1)
         UPDATE friendchat."GroupMember" gm SET "readSeq" = k.pos,
           "readAt" = coalesce((SELECT m."createdAt" FROM friendchat."Message" m WHERE m."groupId" = gm."groupId" AND m.seq = k.pos), gm."joinedAt"),
           "sentSinceRead" = (SELECT count(*) FROM friendchat."Message" m WHERE m."groupId" = gm."groupId" AND m.seq > k.pos AND m."fromUserId" = gm."userId")
         FROM k WHERE gm."groupId" = k."groupId" AND gm."userId" = $1`,
        [me],
      );
      await q('VACUUM ANALYZE friendchat."GroupMember"');
    };
    /** Makes me a member of only the first `n` groups (the rest: left). */
    const memberOf = async (n: number) => {
      await q(
        `UPDATE friendchat."GroupMember" gm SET "leftAt" = CASE WHEN g.n <= $2 THEN NULL ELSE now() END
         FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM friendchat."Group") g WHERE gm."groupId" = g.id AND gm."userId" = $1`,
        [me, n],
      );
    };

    const busiest = gs[0]!.id;
    const history = await timeIt(RUNS, () => groups.history(me, busiest, undefined, 50));
    const { nextCursor } = await groups.history(me, busiest, undefined, 50);
    const historyDeep = await timeIt(RUNS, () => groups.history(me, busiest, nextCursor ?? undefined, 50));
    log(`${name}: group history page (50 of ${PER_GROUP}): service p50 ${history.p50} ms, p99 ${history.p99} ms; an older page p50 ${historyDeep.p50} ms, p99 ${historyDeep.p99} ms`);

    const unreadCases: Record<string, unknown> = {};
    const all = GROUPS.toLocaleString('en');
    for (const [label, n, perGroup, random] of [
      ['member of 20 groups, 0–20 unread in each', 20, 20, true],
      ['member of 100 groups, 0–20 unread in each', 100, 20, true],
      [`member of ${all} groups, all read`, GROUPS, 0, false],
      [`member of ${all} groups, 0–20 unread in each`, GROUPS, 20, true],
      [`member of ${all} groups, 0–100 unread in each`, GROUPS, 100, true],
    ] as const) {
      await memberOf(n);
      await setReadPositions(perGroup, random);
      const counts = await unread.counts(me);
      const unreadTotal = Object.values(counts.byGroup).reduce((a, b) => a + b, 0);
      const r = await timeIt(RUNS, () => unread.counts(me));
      // For comparison on the same data in the same minute (the machine is shared): the group
      // part as the previous version counted it, a count over the messages after readAt.
      const previous = await timeIt(RUNS, () => app.chat.internals.db.sql(PREVIOUS_GROUP_COUNT, [[me]]));
      unreadCases[label] = { ...r, groupsWithUnread: Object.keys(counts.byGroup).length, unreadMessages: unreadTotal, previousGroupCount: previous };
      log(
        `${name}: unread counts, ${label} (${unreadTotal} unread in ${Object.keys(counts.byGroup).length} groups): service p50 ${r.p50} ms, p99 ${r.p99} ms; the previous version's group count p50 ${previous.p50} ms, p99 ${previous.p99} ms`,
      );
    }
    const list = await timeIt(50, () => groups.list(me));
    log(`${name}: GET /api/groups at the service, member of ${all} groups: p50 ${list.p50} ms, p99 ${list.p99} ms`);
    return { target: name, groups: GROUPS, messagesPerGroup: PER_GROUP, historyPage: history, historyOlderPage: historyDeep, unreadCounts: unreadCases, groupListAll: list };
  } finally {
    await c?.end().catch(() => {});
    await app.close();
    if (KEEP) log(`${name}: kept (BENCH_GROUP_KEEP=1): ${pgDb ? pgDb.url : path.join(dir!, 'pglite')}`);
    else {
      await pgDb?.drop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function benchGroups(log: (s: string) => void) {
  const env = { BENCH_USERS: String(MEMBERS), BENCH_GROUP: '1', CHAT_RATE_LIMIT: '100000', DATABASE_URL: undefined, REDIS_URL: undefined };
  const fanout: FanoutResult[] = [];
  const run = async (name: string, start: () => Promise<Target>, cleanup: () => Promise<void> = async () => {}) => {
    if (!PARTS.includes('fanout')) return cleanup();
    const target = await start();
    try {
      fanout.push(await measureFanout(name, target, log));
    } finally {
      await target.stop();
      await cleanup();
    }
  };
  await run('relay (no database)', () => startTarget('relay', env));
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    await run('app, PostgreSQL', () => startTarget('app', { ...env, DATABASE_URL: db.url }), db.drop);
  } else log('PostgreSQL not reachable: PostgreSQL runs skipped');
  if (process.env.BENCH_GROUP_PGLITE !== 'false') await run('app, PGlite', () => startTarget('app', env));
  // The relay once more at the end: on a shared machine its ceiling moves between runs, and the
  // comparison takes the better of its two.
  await run('relay (no database), again', () => startTarget('relay', env));
  const relayBest = Math.max(0, ...fanout.filter((f) => f.target.startsWith('relay')).map((f) => f.saturation?.receiptsPerSecond ?? 0));
  for (const f of fanout) {
    if (f.target.startsWith('relay') || !relayBest || !f.saturation) continue;
    log(`${f.target}: fan-out at saturation ${f.saturation.receiptsPerSecond} receipts/s = ${Math.round((f.saturation.receiptsPerSecond / relayBest) * 100)}% of the relay's best ${relayBest}`);
  }
  const service = [];
  if (PARTS.includes('service')) {
    if (await pgAvailable()) service.push(await benchGroupService(log, 'postgres'));
    if (process.env.BENCH_GROUP_PGLITE !== 'false') service.push(await benchGroupService(log, 'pglite'));
  }
  return { fanout, service };
}
