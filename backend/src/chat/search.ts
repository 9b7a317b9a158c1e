// Message search (DESIGN.md, "Message lifecycle" → Search): GET /api/messages/search over what the
// caller can read — direct chat messages to or from them, and the chat messages of the groups they
// are a current member of (the whole history, as group history shows it to a member; a group they
// left is not searched) — matching the text (a caption too) or an attachment's file name, newest
// first, with the matched parts of `content` as highlights.
//
// How it stays fast (bench/README.md, "Message search"), reads with the same answer:
// - caller first: each source (messages I sent, messages sent to me, each of my groups) read
//   newest first through the index on the caller's own columns, stopping at a page of matches,
//   first only back to a common edge (common words), at worst all of it. Never the table.
// - index first: every match in the table through a text index, then the caller's among them.
//   The trigram index on `content` (migration 20261221000000_message_search, when pg_trgm is
//   installed) for queries with three letters in a row; the bigram index (`cjk_bigrams`, migration
//   20261222000000_search_bigrams, no extension) for queries of non-ASCII characters without case
//   (two Chinese characters, which no trigram index can answer). Fast for rare words; given up
//   when the table holds more than `indexFirstCap` matching texts. File names matched by more
//   than that many files are looked for among the caller's files instead.
import { Router } from 'express';
import { z } from 'zod';
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import type { MessageKind, WireMessage } from '../realtime/events.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { MESSAGE_COLUMNS } from './sql.ts';
import { requireMember } from '../groups/sql.ts';
import { currentUser } from '../http/identity.ts';
import { parse, userId, uuid } from '../http/validate.ts';
import { Cursor, noNul, wellFormed } from './schemas.ts';

const KINDS = ['text', 'image', 'file', 'voice', 'location'] as const satisfies readonly MessageKind[];

/**
 * The query string: `q` trimmed, 1–100 characters (UTF-16 code units, as content is counted);
 * `peerId` or `groupId` (not both); `kind`; `before` a cursor from an earlier page; `limit` 1–50.
 */
export const SearchQuery = z
  .object({
    q: z
      .string({ message: 'required' })
      .trim()
      .min(1, 'must not be empty')
      .max(100, 'at most 100 characters')
      .refine(noNul, 'must not contain NUL characters')
      .refine(wellFormed, 'must be well-formed text (no lone surrogates)'),
    peerId: userId.optional(),
    groupId: uuid.optional(),
    kind: z.enum(KINDS).optional(),
    before: Cursor.optional(),
    limit: z.coerce.number().int().min(1).max(50).default(20),
  })
  .refine((v) => v.peerId === undefined || v.groupId === undefined, { message: 'peerId or groupId, not both', path: ['groupId'] });

export interface SearchInput {
  q: string;
  peerId?: string;
  groupId?: string;
  kind?: MessageKind;
  before?: string;
  limit: number;
}

/** `[start, end)` of a match in `message.content`, in UTF-16 code units. */
export type Highlight = [number, number];

export interface SearchPage {
  results: { message: WireMessage; highlights: Highlight[] }[];
  nextCursor: string | null;
}

/** `q` as a LIKE pattern that matches it literally anywhere: `%`, `_` and `\` escaped. */
export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Where `q` occurs in `content`, case-insensitively (simple case folding, as the database's ILIKE
 * does for Latin letters), without overlaps. Empty when the match was in the file name only.
 */
export function highlightsOf(content: string, q: string): Highlight[] {
  const re = new RegExp(q.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&'), 'giu');
  return [...content.matchAll(re)].map((m) => [m.index, m.index + m[0].length]);
}

/**
 * The pairs of neighbouring characters of `q` the bigram index holds (`cjk_bigrams`, migration
 * 20261222000000_search_bigrams), when it can answer `q`: every character non-ASCII and without
 * case (so matched with LIKE, byte for byte), two or more of them. Null otherwise.
 */
export function bigrams(q: string): string[] | null {
  const chars = [...q];
  if (chars.length < 2 || chars.some((c) => c.codePointAt(0)! < 128) || q.toLowerCase() !== q.toUpperCase()) return null;
  return [...new Set(chars.slice(1).map((c, i) => chars[i] + c))];
}

/** Which read answered a search (see `search`). */
export type SearchPlan = 'recent' | 'trigram' | 'bigram' | 'all';

export interface SearchOptions {
  /** Messages per source the first, budgeted caller-first read looks at (see `callerFirst`; default 1000). */
  callerBudget?: number;
  /** At most this many matches of the whole table are read by the index-first plan (see `search`; default 1000). */
  indexFirstCap?: number;
  /** Told which read answered each search, and whether the caller's files answered for the names (tests). */
  onPlan?: (plan: SearchPlan | 'files') => void;
}

export function createSearchService(db: Database, present: (rows: Message[]) => Promise<WireMessage[]>, options: SearchOptions = {}) {
  const cap = (options.indexFirstCap ?? 1000) + 1;
  const budget = options.callerBudget ?? 1000;
  const M = db.table('Message');
  const A = db.table('Attachment');
  const GM = db.table('GroupMember');
  // Whether the migration could create the trigram index (pg_trgm installed); asked once.
  let trigramIndex: Promise<boolean> | null = null;
  const hasTrigramIndex = () =>
    (trigramIndex ??= db
      .sql(`SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = 'Message_content_trgm_idx'`, [db.schema])
      .then((r) => r.length > 0)
      .catch((err: unknown) => {
        trigramIndex = null; // asked again next time (the database was away)
        throw err;
      }));

  /** The statement's parameters: $1 me, $2 the pattern, $3 the page size + 1, then the filters. */
  function build(me: string, input: SearchInput) {
    const { q, peerId, groupId, kind, limit } = input;
    const cursor = input.before ? decodeCursor(input.before) : null;
    const params: unknown[] = [me, likePattern(q), limit + 1];
    const param = (v: unknown) => `$${params.push(v)}`;
    // A query without letters that have a case (Chinese, digits) is matched byte for byte: the
    // same answer as ILIKE, several times cheaper (ILIKE lowercases every row's text first).
    const like = q.toLowerCase() === q.toUpperCase() ? 'LIKE' : 'ILIKE';
    const contentMatches = `m.content ${like} $2 ESCAPE '\\'`;
    const nameMatches = (name: string) => `${name} ${like} $2 ESCAPE '\\'`;
    let common = `m."deletedAt" IS NULL AND m."messageType" = 'CHAT'`;
    let before: string | null = null;
    // Kept apart: a budgeted read counts the source's messages of every kind (see `callerFirst`).
    const ofKind = kind ? `m.kind = ${param(kind)}::text` : 'true';
    if (cursor) {
      const t = (before = `(${param(cursor.createdAt.toISOString())}::timestamptz AT TIME ZONE 'UTC')`);
      const id = `${param(cursor.id)}::uuid`;
      common += ` AND m."createdAt" <= ${t} AND (m."createdAt" < ${t} OR m.id < ${id})`;
    }
    const peer = peerId === undefined ? null : param(peerId);
    const group = groupId === undefined ? null : param(groupId);
    return { params, contentMatches, nameMatches, common, ofKind, peer, group, before };
  }

  /**
   * Caller first: each source read newest first through the index on the caller's columns,
   * stopping at a page of matches. Always right; reads at most the caller's own messages.
   *
   * With a `budget`, the sources are read back to one time, their common edge, and no further:
   * each source's `budget`-th newest message (through its index alone, whatever the message),
   * the newest of those. Every match from the edge on is found, so the page is sure when it holds
   * a page plus one of them (anything older comes after), or when no source reached its budget
   * (no edge: everything was read). Otherwise null: a common word is answered here, a rare one
   * goes on to the next plan. A source that is busier than the others sets the edge, and the
   * others read only back to it (in the benchmark, my 10 groups ~1,000 messages in all, not
   * 1,000 each).
   */
  async function callerFirst(me: string, input: SearchInput, budget?: number): Promise<Message[] | null> {
    const { params, contentMatches, nameMatches, common, ofKind, peer, group, before } = build(me, input);
    // The text, or the name of the file the message carries (looked up only for those).
    const matches = `${ofKind} AND (${contentMatches} OR (m."attachmentId" IS NOT NULL AND ${nameMatches(`(SELECT a.name FROM ${A} a WHERE a.id = m."attachmentId")`)}))`;
    const order = `ORDER BY m."createdAt" DESC, m.id DESC`;
    // Each source: the condition it is read with, and the one its edge is looked up with (only
    // the index's own columns: the edge bounds the work, any edge gives the same answer).
    const sources: { where: string; edgeWhere: string; groups?: true }[] = [];
    if (!group) {
      // Sent by me (a direct message has a recipient) and sent to me.
      sources.push({
        where: `m."fromUserId" = $1::text AND m."toUserId" ${peer ? `= ${peer}::text` : 'IS NOT NULL'}`,
        edgeWhere: peer ? `m."fromUserId" = $1::text AND m."toUserId" = ${peer}::text` : `m."fromUserId" = $1::text`,
      });
      sources.push({
        where: `m."toUserId" = $1::text${peer ? ` AND m."fromUserId" = ${peer}::text` : ''}`,
        edgeWhere: peer ? `m."fromUserId" = ${peer}::text AND m."toUserId" = $1::text` : `m."toUserId" = $1::text`,
      });
    }
    if (!peer) sources.push({ where: `m."groupId" = gm."groupId"`, edgeWhere: `m."groupId" = gm."groupId"`, groups: true });
    const ofMyGroups = `FROM ${GM} gm WHERE gm."userId" = $1::text AND gm."leftAt" IS NULL ${group ? `AND gm."groupId" = ${group}::uuid` : ''}`;
    const each = (src: (typeof sources)[number], select: string) => (src.groups ? `(SELECT g.* ${ofMyGroups.replace('WHERE', `CROSS JOIN LATERAL (${select}) g WHERE`)})` : select);
    let text: string;
    if (budget === undefined) {
      const newest = (where: string) => `(SELECT m.* FROM ${M} m WHERE ${where} AND ${common} AND ${matches} ${order} LIMIT $3)`;
      text = `SELECT ${MESSAGE_COLUMNS}, null::timestamp AS edge FROM (${sources.map((src) => each(src, newest(src.where))).join(' UNION ALL ')}) m ORDER BY "createdAt" DESC, id DESC LIMIT $3`;
    } else {
      const edgeOf = (where: string) =>
        `(SELECT m."createdAt" AS e FROM ${M} m WHERE ${where}${before ? ` AND m."createdAt" <= ${before}` : ''} ORDER BY m."createdAt" DESC OFFSET ${budget - 1} LIMIT 1)`;
      const since = `m."createdAt" >= coalesce((SELECT t FROM edge), '-infinity'::timestamp)`;
      const newest = (where: string) => `(SELECT m.* FROM ${M} m WHERE ${where} AND ${since} AND ${common} AND ${matches} ${order} LIMIT $3)`;
      text = `WITH edge AS MATERIALIZED (SELECT max(e) AS t FROM (${sources.map((src) => each(src, edgeOf(src.edgeWhere))).join(' UNION ALL ')}) x)
        SELECT (SELECT t FROM edge) AS edge, p.* FROM (SELECT 1) one LEFT JOIN (
          SELECT ${MESSAGE_COLUMNS} FROM (${sources.map((src) => each(src, newest(src.where))).join(' UNION ALL ')}) m ORDER BY "createdAt" DESC, id DESC LIMIT $3
        ) p ON true ORDER BY p."createdAt" DESC, p.id DESC`;
    }
    // In time order, through the caller's indexes only: left to itself, PostgreSQL would AND the
    // trigram index of a common word into each group's scan (~10× slower), or read the whole
    // table for a filter it thinks rare (`kind`).
    const rows = await db.transaction(async (sql) => {
      await sql(`SET LOCAL enable_bitmapscan = off`);
      await sql(`SET LOCAL enable_seqscan = off`);
      return sql<Message & { edge: Date | null }>(text, params);
    });
    // One row at least with a budget: the edge, with the page's messages beside it (none: null columns).
    const found = rows.filter((r) => r.id !== null);
    if (budget !== undefined && found.length <= input.limit && rows[0]?.edge != null) return null;
    return found.map(({ edge: _, ...m }) => m as Message);
  }

  /**
   * Index first: every match in the whole table through a text index, then the caller's among
   * them. The text is looked up through the trigram index (`content ILIKE`), or, for a query of
   * non-ASCII characters without case (Chinese), through the bigram index (`cjk_bigrams`, every
   * pair of the query's neighbouring non-ASCII characters, rows then checked with LIKE). Null when
   * the table holds more than `indexFirstCap` text matches; `names` false when it holds more than
   * that many matching file names (the page is then right for the text only, see `search`).
   */
  async function indexFirst(me: string, input: SearchInput, index: 'trigram' | string[]): Promise<{ rows: Message[]; names: boolean } | null> {
    const { params, contentMatches, nameMatches, ofKind, peer, group, ...rest } = build(me, input);
    const common = `${rest.common} AND ${ofKind}`;
    const readable = peer
      ? `m."groupId" IS NULL AND ((m."fromUserId" = $1::text AND m."toUserId" = ${peer}::text) OR (m."fromUserId" = ${peer}::text AND m."toUserId" = $1::text))`
      : `${group ? 'false' : `(m."groupId" IS NULL AND (m."fromUserId" = $1::text OR m."toUserId" = $1::text))`}
           OR m."groupId" IN (SELECT "groupId" FROM ${GM} WHERE "userId" = $1::text AND "leftAt" IS NULL ${group ? `AND "groupId" = ${group}::uuid` : ''})`;
    // The bigram index is partial (texts with a non-ASCII character): its predicate is repeated.
    const pairs = index === 'trigram' ? null : `${params.push(`{${index.map((p) => `"${p}"`).join(',')}}`)}`;
    const byPairs = (col: string) => (pairs ? `${db.table('cjk_bigrams')}(${col}) @> $${pairs}::text[] AND octet_length(${col}) <> length(${col}) AND ` : '');
    // One row at least: the counts, with the page's messages beside them (none: null columns).
    // Each file's message looked up by its id (LATERAL): joined, PostgreSQL read the whole index
    // of attachment ids in order (157 ms for 1,000 names).
    const text = `WITH byText AS MATERIALIZED (SELECT m.* FROM ${M} m WHERE ${byPairs('m.content')}${contentMatches} AND ${common} LIMIT ${cap}),
      byName AS MATERIALIZED (SELECT m.* FROM (SELECT a.id FROM ${A} a WHERE ${byPairs('a.name')}${nameMatches('a.name')} AND a."sentAt" IS NOT NULL LIMIT ${cap}) a
        CROSS JOIN LATERAL (SELECT m.* FROM ${M} m WHERE m."attachmentId" = a.id AND ${common} LIMIT 1) m),
      hits AS (SELECT * FROM byText UNION ALL SELECT * FROM byName WHERE id NOT IN (SELECT id FROM byText))
      SELECT (SELECT count(*) FROM byText) AS "byText", (SELECT count(*) FROM byName) AS "byName", p.*
      FROM (SELECT 1) one LEFT JOIN (SELECT ${MESSAGE_COLUMNS} FROM hits m WHERE ${readable} ORDER BY "createdAt" DESC, id DESC LIMIT $3) p ON true
      ORDER BY p."createdAt" DESC, p.id DESC`;
    // The text index is the plan: a sequential scan that stops at the cap would read the whole
    // table for a word the statistics think common but which is not.
    const rows = await db.transaction(async (sql) => {
      await sql(`SET LOCAL enable_seqscan = off`);
      return sql<Message & { byText: string | number; byName: string | number }>(text, params);
    });
    if (Number(rows[0]?.byText ?? cap) >= cap) return null;
    return {
      rows: rows.filter((r) => r.id !== null).map(({ byText: _, byName: __, ...m }) => m as Message),
      names: Number(rows[0]?.byName ?? cap) < cap,
    };
  }

  /**
   * The caller's messages with a file whose name matches, newest first (a page plus one), read
   * through the partial indexes of messages with a file (migration 20261222000000_search_bigrams):
   * for a name too common in the whole table for the index-first plan.
   */
  async function callerFiles(me: string, input: SearchInput): Promise<Message[]> {
    const { params, nameMatches, common, ofKind, peer, group } = build(me, input);
    const matches = `m."attachmentId" IS NOT NULL AND ${ofKind} AND ${nameMatches(`(SELECT a.name FROM ${A} a WHERE a.id = m."attachmentId")`)}`;
    const order = `ORDER BY m."createdAt" DESC, m.id DESC`;
    const newest = (where: string) => `(SELECT m.* FROM ${M} m WHERE ${where} AND ${common} AND ${matches} ${order} LIMIT $3)`;
    const sources: string[] = [];
    if (!group) {
      sources.push(newest(`m."fromUserId" = $1::text AND m."toUserId" ${peer ? `= ${peer}::text` : 'IS NOT NULL'}`));
      sources.push(newest(`m."toUserId" = $1::text${peer ? ` AND m."fromUserId" = ${peer}::text` : ''}`));
    }
    if (!peer) {
      sources.push(`(SELECT g.* FROM ${GM} gm CROSS JOIN LATERAL (${newest(`m."groupId" = gm."groupId"`)}) g
        WHERE gm."userId" = $1::text AND gm."leftAt" IS NULL ${group ? `AND gm."groupId" = ${group}::uuid` : ''})`);
    }
    const text = `SELECT ${MESSAGE_COLUMNS} FROM (${sources.join(' UNION ALL ')}) m ORDER BY "createdAt" DESC, id DESC LIMIT $3`;
    return db.transaction(async (sql) => {
      await sql(`SET LOCAL enable_bitmapscan = off`);
      await sql(`SET LOCAL enable_seqscan = off`);
      return sql<Message>(text, params);
    });
  }

  /** Index first, with the file names looked for among the caller's files when too common. */
  async function indexed(me: string, input: SearchInput, index: 'trigram' | string[]): Promise<Message[] | null> {
    const found = await indexFirst(me, input, index);
    if (!found || found.names) return found?.rows ?? null;
    options.onPlan?.('files');
    // The page holds every text match of the answer (and some name matches); the caller's files
    // hold every name match of it. Both newest first; createdAt is stored to the millisecond.
    const byId = new Map([...found.rows, ...(await callerFiles(me, input))].map((m) => [m.id, m]));
    return [...byId.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)).slice(0, input.limit + 1);
  }

  return {
    /**
     * A page of matches, newest first. Four reads give the same answer, tried in turn until one
     * is sure: the caller's newest messages back to a common edge (common words), the trigram
     * index for a query of three letters or more in a row when it exists (rare words), the bigram
     * index for a query of Chinese characters (rare two-character ones), all the caller's
     * messages (rare short queries otherwise, or no index).
     */
    async search(me: string, input: SearchInput): Promise<SearchPage> {
      const { q, groupId, limit } = input;
      // Searching one group needs its current membership: 404 / 403 NOT_MEMBER otherwise.
      if (groupId) await requireMember(db, groupId, me);
      const trigrams = async () => /[\p{L}\p{N}]{3}/u.test(q) && (await hasTrigramIndex());
      const pairs = bigrams(q);
      const answered = (plan: SearchPlan) => (rows: Message[] | null) => (rows && options.onPlan?.(plan), rows);
      const rows =
        answered('recent')(await callerFirst(me, input, budget)) ??
        ((await trigrams()) ? answered('trigram')(await indexed(me, input, 'trigram')) : null) ??
        (pairs ? answered('bigram')(await indexed(me, input, pairs)) : null) ??
        answered('all')(await callerFirst(me, input))!;
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      const messages = await present(page);
      return {
        results: messages.map((message) => ({ message, highlights: highlightsOf(message.content, q) })),
        nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
      };
    },
  };
}
export type SearchService = ReturnType<typeof createSearchService>;

/** GET /api/messages/search; mounted before `/messages/:userId`, which would take "search" for a user id. */
export function searchRoutes(search: SearchService): Router {
  const r = Router();
  r.get('/messages/search', async (req, res) => {
    res.json(await search.search(currentUser(res), parse(SearchQuery, req.query)));
  });
  return r;
}
