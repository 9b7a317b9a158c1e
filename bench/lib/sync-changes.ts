// The lifecycle bench's sync phase (issue 14: "sync of 1,000 changes under 100 ms"). One user with
// direct chats (20 friends) and groups (5) holding BENCH_SYNC_OLD messages, in a table with
// BENCH_SYNC_BACKGROUND other users' messages; a cursor taken after them (by paging sync to its
// end); then BENCH_SYNC_CHANGES of the user's messages change after the cursor, a mix of new
// messages (direct both ways and group), edits, recalls, reactions, delivered and reads, while
// other users' messages change too (noise sync must leave out). Timed: the whole catch-up from
// the cursor, every page (`limit` is at most 100, so 1,000 changes are 10 pages), at the service
// (`messages.sync`) and over HTTP (`GET /api/messages/sync`), on PostgreSQL and PGlite. Each
// catch-up is checked: exactly the changed messages, each once, in their latest state; anything
// else throws.
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { createFriendChat, type FriendChat } from '../../backend/src/server.ts';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { createBenchDatabase, pgAvailable } from './pg.ts';
import { percentile } from './load.ts';

const CHANGES = Number(process.env.BENCH_SYNC_CHANGES ?? 1000);
const OLD = Number(process.env.BENCH_SYNC_OLD ?? 10_000);
const BACKGROUND = Number(process.env.BENCH_SYNC_BACKGROUND ?? 100_000);
const RUNS = Number(process.env.BENCH_SYNC_RUNS ?? 20);
/** The largest page sync gives (DESIGN.md: `limit` 1–100). */
const PAGE = 100;
const ME = 'bench-user-0';
const FRIENDS = 20;
const GROUPS = 5;

type Query = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

const friendChatOptions = {
  // The bearer token is the user id.
  identify: async (token: string) => token,
  users: { byIds: async (ids: string[]) => ids.map((id) => ({ id, username: id, displayName: id, avatarUrl: null })) },
  friends: { areFriends: async () => true, friendIds: async () => [] },
};

/** The user's conversations and everyone else's, all before the cursor. */
async function seedOld(q: Query) {
  await q(
    `INSERT INTO "Group" (id, name, "ownerId", "memberCount", "createdAt")
     SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, 'group ' || g, 'bench-user-1', 10, now() - interval '400 days'
     FROM generate_series(1, ${GROUPS * 2}) g`,
  );
  // I am in groups 1–5 (with friends 1–9); groups 6–10 are others'.
  await q(
    `INSERT INTO "GroupMember" ("groupId", "userId", role, "joinedAt", "readAt")
     SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
            CASE WHEN g <= ${GROUPS} THEN 'bench-user-' || k ELSE 'bench-user-' || (100 + g * 10 + k) END,
            'member', now() - interval '400 days', now() - interval '400 days'
     FROM generate_series(1, ${GROUPS * 2}) g, generate_series(0, 9) k`,
  );
  const direct = Math.round(OLD / 2);
  // Direct with my friends both ways, then my groups: one message a second up to a minute ago.
  await q(
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", content, "createdAt", "changedAt")
     SELECT gen_random_uuid(), CASE WHEN i % 2 = 0 THEN '${ME}' ELSE 'bench-user-' || (1 + i % ${FRIENDS}) END,
            CASE WHEN i % 2 = 0 THEN 'bench-user-' || (1 + (i / 2) % ${FRIENDS}) ELSE '${ME}' END,
            'old message ' || i, now() - interval '60 seconds' - make_interval(secs => ${OLD} - i), now() - interval '60 seconds' - make_interval(secs => ${OLD} - i)
     FROM generate_series(1, ${direct}) i`,
  );
  await q(
    `INSERT INTO "Message" (id, "fromUserId", "groupId", content, "createdAt", "changedAt")
     SELECT gen_random_uuid(), 'bench-user-' || (1 + i % 9), ('00000000-0000-4000-8000-' || lpad((1 + i % ${GROUPS})::text, 12, '0'))::uuid,
            'old group message ' || i, now() - interval '60 seconds' - make_interval(secs => ${OLD} - i), now() - interval '60 seconds' - make_interval(secs => ${OLD} - i)
     FROM generate_series(${direct + 1}, ${OLD}) i`,
  );
  // Everyone else's: direct between users 1000–1999 and the other groups.
  await q(
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", "groupId", content, "createdAt", "changedAt")
     SELECT gen_random_uuid(), 'bench-user-' || (1000 + i % 1000),
            CASE WHEN i % 4 = 0 THEN NULL ELSE 'bench-user-' || (1000 + (i * 7 + 1) % 1000) END,
            CASE WHEN i % 4 = 0 THEN ('00000000-0000-4000-8000-' || lpad((${GROUPS + 1} + i % ${GROUPS})::text, 12, '0'))::uuid END,
            'background ' || i, now() - interval '60 seconds' - make_interval(secs => i % 100000), now() - interval '60 seconds' - make_interval(secs => i % 100000)
     FROM generate_series(1, ${BACKGROUND}) i`,
  );
}

interface Expected {
  ids: Set<string>;
  edited: Set<string>;
  recalled: Set<string>;
  reacted: Set<string>;
  delivered: Set<string>;
  read: Set<string>;
  created: Set<string>;
}

/** After the cursor: CHANGES of my messages change (each kind in its own statements), and others' too. */
async function change(q: Query): Promise<Expected> {
  const share = (f: number) => Math.round(CHANGES * f);
  const nNew = share(0.2);
  const nEdit = share(0.2);
  const nRecall = share(0.1);
  const nReact = share(0.2);
  const nDelivered = share(0.15);
  const nRead = CHANGES - nNew - nEdit - nRecall - nReact - nDelivered;
  // Old messages of mine, spread over the whole range, each picked for one kind of change.
  const mine = await q<{ id: string; fromUserId: string; toUserId: string | null }>(
    `SELECT id::text AS id, "fromUserId", "toUserId" FROM "Message"
     WHERE "fromUserId" = $1 OR "toUserId" = $1 OR "groupId" IN (SELECT "groupId" FROM "GroupMember" WHERE "userId" = $1)
     ORDER BY hashtext(id::text)`,
    [ME],
  );
  const toMe = mine.filter((m) => m.toUserId === ME);
  const read = toMe.slice(0, nRead).map((m) => m.id);
  const taken = new Set(read);
  const rest = mine.filter((m) => !taken.has(m.id));
  const mineSent = rest.filter((m) => m.fromUserId === ME);
  const edited = mineSent.slice(0, nEdit).map((m) => m.id);
  const recalled = mineSent.slice(nEdit, nEdit + nRecall).map((m) => m.id);
  for (const id of [...edited, ...recalled]) taken.add(id);
  const others = rest.filter((m) => !taken.has(m.id));
  const reacted = others.slice(0, nReact).map((m) => m.id);
  const delivered = others.slice(nReact, nReact + nDelivered).map((m) => m.id);
  if (read.length < nRead || edited.length + recalled.length < nEdit + nRecall || delivered.length < nDelivered) {
    throw new Error(`sync bench: BENCH_SYNC_OLD ${OLD} is too small for BENCH_SYNC_CHANGES ${CHANGES}`);
  }

  // In batches of 50, like clients would cause them over a while.
  const inBatches = async (ids: string[], fn: (batch: string[]) => Promise<unknown>) => {
    for (let i = 0; i < ids.length; i += 50) await fn(ids.slice(i, i + 50));
  };
  await inBatches(edited, (b) => q(`UPDATE "Message" SET content = content || ' (edited)', "editedAt" = now() AT TIME ZONE 'UTC' WHERE id = ANY($1::uuid[])`, [b]));
  await inBatches(recalled, (b) => q(`UPDATE "Message" SET "deletedAt" = now() AT TIME ZONE 'UTC' WHERE id = ANY($1::uuid[])`, [b]));
  // Two reactions on each (mine and a friend's), and a few on messages edited already (still one change each).
  await inBatches(reacted, (b) =>
    q(`INSERT INTO "Reaction" ("messageId", "userId", emoji) SELECT id, u, e FROM unnest($1::uuid[]) id, (VALUES ('${ME}', '👍'), ('bench-user-1', '❤️')) v(u, e)`, [b]),
  );
  await q(`INSERT INTO "Reaction" ("messageId", "userId", emoji) SELECT id, '${ME}', '😂' FROM unnest($1::uuid[]) id`, [edited.slice(0, 20)]);
  await inBatches(delivered, (b) =>
    q(
      `INSERT INTO "Delivery" ("messageId", "deliveredAt", "fromUserId", "toUserId", "groupId")
       SELECT id, now() AT TIME ZONE 'UTC', "fromUserId", "toUserId", "groupId" FROM "Message" WHERE id = ANY($1::uuid[]) ON CONFLICT DO NOTHING`,
      [b],
    ),
  );
  await inBatches(read, (b) => q(`UPDATE "Message" SET "isRead" = true, "readAt" = now() AT TIME ZONE 'UTC' WHERE id = ANY($1::uuid[])`, [b]));
  // New messages: direct both ways, and in my groups.
  const created = await q<{ id: string }>(
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", "groupId", content)
     SELECT gen_random_uuid(),
            CASE WHEN i % 3 = 0 THEN '${ME}' ELSE 'bench-user-' || (1 + i % 9) END,
            CASE WHEN i % 3 = 0 THEN 'bench-user-' || (1 + i % ${FRIENDS}) WHEN i % 3 = 1 THEN '${ME}' END,
            CASE WHEN i % 3 = 2 THEN ('00000000-0000-4000-8000-' || lpad((1 + i % ${GROUPS})::text, 12, '0'))::uuid END,
            'new message ' || i
     FROM generate_series(1, ${nNew}) i RETURNING id::text AS id`,
  );
  // Noise: others' messages change and arrive too.
  await q(
    `UPDATE "Message" SET content = content || ' (edited)', "editedAt" = now() AT TIME ZONE 'UTC'
     WHERE id IN (SELECT id FROM "Message" WHERE content LIKE 'background %' ORDER BY hashtext(id::text) LIMIT ${CHANGES})`,
  );
  await q(
    `INSERT INTO "Message" (id, "fromUserId", "toUserId", content)
     SELECT gen_random_uuid(), 'bench-user-' || (1000 + i % 1000), 'bench-user-' || (1000 + (i + 1) % 1000), 'background new ' || i
     FROM generate_series(1, ${CHANGES}) i`,
  );
  const set = (ids: string[]) => new Set(ids);
  const all = [...read, ...edited, ...recalled, ...reacted, ...delivered, ...created.map((c) => c.id)];
  return {
    ids: set(all),
    edited: set(edited),
    recalled: set(recalled),
    reacted: set([...reacted, ...edited.slice(0, 20)]),
    delivered: set(delivered),
    read: set(read),
    created: set(created.map((c) => c.id)),
  };
}

/** One whole catch-up from `after`: every page until `hasMore` is false. */
type CatchUp = (after: string) => Promise<{ messages: WireMessage[]; pages: number; cursor: string }>;

/** Throws unless the catch-up is exactly the expected messages, once each, in their latest state. */
function check(label: string, got: WireMessage[], want: Expected) {
  const fail = (why: string) => {
    throw new Error(`sync bench, ${label}: ${why}`);
  };
  const ids = got.map((m) => m.id);
  if (new Set(ids).size !== ids.length) fail(`${ids.length - new Set(ids).size} messages came twice`);
  if (ids.length !== want.ids.size) fail(`${ids.length} messages, expected ${want.ids.size}`);
  const stray = ids.filter((id) => !want.ids.has(id));
  if (stray.length) fail(`${stray.length} messages that did not change (or are not mine), e.g. ${stray[0]}`);
  const count = (f: (m: WireMessage) => boolean) => got.filter(f).length;
  const expectCount = (what: string, n: number, m: number) => n !== m && fail(`${n} ${what}, expected ${m}`);
  expectCount('edited', count((m) => want.edited.has(m.id) && m.editedAt !== null && m.content.endsWith(' (edited)')), want.edited.size);
  expectCount('recalled', count((m) => m.deletedAt !== null && m.content === ''), want.recalled.size);
  expectCount('reacted', count((m) => want.reacted.has(m.id) && m.reactions.length > 0 && m.reactions.some((r) => r.mine)), want.reacted.size);
  expectCount('delivered', count((m) => want.delivered.has(m.id) && m.deliveredAt !== null), want.delivered.size);
  expectCount('read', count((m) => want.read.has(m.id) && m.isRead && m.readAt !== null), want.read.size);
  expectCount('new', count((m) => want.created.has(m.id)), want.created.size);
}

function stats(t: number[]) {
  const s = [...t].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { runs: s.length, p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s.at(-1)!) };
}

async function measure(chat: FriendChat, q: Query, label: string, log: (s: string) => void) {
  const t0 = performance.now();
  await seedOld(q);
  log(`${label}: seeded ${OLD.toLocaleString('en')} messages of the user and ${BACKGROUND.toLocaleString('en')} others in ${Math.round(performance.now() - t0)} ms`);
  const messages = chat.internals.services.messages;
  const service: CatchUp = async (after) => {
    const out: WireMessage[] = [];
    let cursor = after;
    let pages = 0;
    for (;;) {
      const page = await messages.sync(ME, cursor, PAGE);
      pages++;
      out.push(...page.messages);
      cursor = page.nextCursor;
      if (!page.hasMore) return { messages: out, pages, cursor };
    }
  };
  const app = express();
  app.use('/api', chat.router);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/messages/sync`;
  const http: CatchUp = async (after) => {
    const out: WireMessage[] = [];
    let cursor = after;
    let pages = 0;
    for (;;) {
      const res = await fetch(`${base}?after=${encodeURIComponent(cursor)}&limit=${PAGE}`, { headers: { authorization: `Bearer ${ME}` } });
      if (res.status !== 200) throw new Error(`sync bench, ${label}: HTTP ${res.status} ${await res.text()}`);
      const page = (await res.json()) as { messages: WireMessage[]; nextCursor: string; hasMore: boolean };
      pages++;
      out.push(...page.messages);
      cursor = page.nextCursor;
      if (!page.hasMore) return { messages: out, pages, cursor };
    }
  };
  try {
    // The cursor: where a client that synced everything before the changes stands.
    await new Promise((r) => setTimeout(r, 50));
    const before = await service('');
    if (before.messages.length !== OLD) throw new Error(`sync bench, ${label}: the first sync gave ${before.messages.length} messages, expected ${OLD}`);
    const cursor = before.cursor;
    await new Promise((r) => setTimeout(r, 50));
    const want = await change(q);
    // Sync holds back what changed in the last millisecond (docs/protocol.md).
    await new Promise((r) => setTimeout(r, 50));
    const out: Record<string, unknown> = { changes: want.ids.size };
    for (const [how, catchUp] of [
      ['service', service],
      ['HTTP', http],
    ] as const) {
      const first = await catchUp(cursor);
      check(`${label}, ${how}`, first.messages, want);
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const s = performance.now();
        const r = await catchUp(cursor);
        times.push(performance.now() - s);
        if (r.messages.length !== want.ids.size) throw new Error(`sync bench, ${label}, ${how}: run ${i} gave ${r.messages.length} messages`);
      }
      const st = stats(times);
      out[how] = { pages: first.pages, perPage: PAGE, ...st };
      log(`${label}, ${how}: catch-up of ${want.ids.size} changes in ${first.pages} pages of ≤ ${PAGE}: p50 ${st.p50} ms, p99 ${st.p99} ms (${RUNS} runs)`);
    }
    return out;
  } finally {
    await new Promise((r) => server.close(r));
  }
}

export async function benchSyncChanges(log: (s: string) => void) {
  const results: Record<string, unknown> = { changes: CHANGES, old: OLD, background: BACKGROUND, runs: RUNS };
  if (process.env.BENCH_LIFECYCLE_POSTGRES !== 'false' && (await pgAvailable())) {
    const db = await createBenchDatabase();
    const chat = await createFriendChat({ database: { url: db.url }, ...friendChatOptions });
    const c = new pg.Client({ connectionString: db.url, options: '-c TimeZone=UTC -c search_path=friendchat' });
    c.on('error', () => {});
    try {
      await c.connect();
      results.postgres = await measure(chat, async (text, params) => (await c.query({ text, values: params })).rows, 'sync, PostgreSQL', log);
    } finally {
      await c.end().catch(() => {});
      await chat.close();
      await db.drop();
    }
  } else log('sync: PostgreSQL skipped');
  if (process.env.BENCH_LIFECYCLE_PGLITE === 'false') return results;
  const pglite = new PGlite({ extensions: { pg_trgm } });
  const chat = await createFriendChat({ database: { pglite }, ...friendChatOptions });
  try {
    // The module's tables by their plain names in the seed, then back (its own queries qualify them).
    const q: Query = async (text, params) => {
      await pglite.exec(`SET search_path TO friendchat`);
      try {
        return (await pglite.query<never>(text, params)).rows;
      } finally {
        await pglite.exec(`SET search_path TO "$user", public`);
      }
    };
    results.pglite = await measure(chat, q, 'sync, PGlite', log);
  } finally {
    await chat.close();
    await pglite.close();
  }
  return results;
}
