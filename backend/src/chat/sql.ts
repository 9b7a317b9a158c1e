// The Message table's hot paths in plain SQL, run through the driver rather than the ORM
// (its per-query cost dominated them; see bench/README.md). Rows come back shaped as Prisma's
// `Message`, times as UTC Dates, so everything downstream treats them alike. Every statement
// names the table in the module's schema (`db.table`); user ids are the host's text ids.
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import type { Position } from './cursor.ts';
import { uuidv7 } from './ids.ts';
import type { WireReaction } from '../realtime/events.ts';
import { reactionsColumn } from './reactions.ts';

/**
 * The columns of a Message row, timestamps read back as UTC instants. Its delivered receipt is a
 * row of "Delivery" (`deliveredAt` below): the lifecycle's `present` reads it for the rows that
 * come without one.
 */
export const MESSAGE_COLUMNS = `id, "fromUserId", "toUserId", "groupId", "messageType", content, metadata, "clientId", "isRead",
  "readAt" AT TIME ZONE 'UTC' AS "readAt", "createdAt" AT TIME ZONE 'UTC' AS "createdAt",
  "deletedAt" AT TIME ZONE 'UTC' AS "deletedAt", kind, "attachmentId", location,
  "editedAt" AT TIME ZONE 'UTC' AS "editedAt", "replyToId",
  "changedAt" AT TIME ZONE 'UTC' AS "changedAt"`;

/** The delivered receipt's time of the message `id` (an SQL expression), null when none: a page's rows come with it. */
export const deliveredColumn = (db: Database, id: string) =>
  `(SELECT d."deliveredAt" AT TIME ZONE 'UTC' FROM ${db.table('Delivery')} d WHERE d."messageId" = ${id})`;

/** Parameter `$n`, an ISO instant, as the columns store time (UTC, without a time zone). */
const utc = (n: number) => `($${n}::timestamptz AT TIME ZONE 'UTC')`;

/**
 * Rows strictly before (`<`) or after (`>`) a cursor position in (createdAt, id) order, written
 * so an index on createdAt bounds the scan. `t` and `id` are parameter numbers.
 */
const beyond = (op: '<' | '>', t: number, id: number) =>
  `"createdAt" ${op}= ${utc(t)} AND ("createdAt" ${op} ${utc(t)} OR id ${op} $${id}::uuid)`;

function historySql(db: Database, withCursor: boolean): string {
  const table = db.table('Message');
  // Strictly older than the cursor, in (createdAt, id) order; written so the index on
  // (fromUserId, toUserId, createdAt) bounds the scan.
  const older = withCursor ? `AND ${beyond('<', 4, 5)}` : '';
  // Each direction reads only its newest `limit` rows, in the index's own order (createdAt;
  // WITH TIES keeps every row that shares the last one's time, so the id tie-break below is
  // exact), instead of the whole conversation that one OR over both directions fetches and sorts.
  const side = (from: string, to: string, extra = '') => `(
    SELECT * FROM ${table}
    WHERE "fromUserId" = ${from} AND "toUserId" = ${to} AND "deletedAt" IS NULL AND "messageType" = 'CHAT' ${older} ${extra}
    ORDER BY "createdAt" DESC FETCH FIRST $3 ROWS WITH TIES)`;
  // The page's reactions as `me` ($1) sees them and its receipts, read with it (after the limit:
  // the page's only).
  return `SELECT h.*, ${reactionsColumn(db, 'h.id', '$1')} AS reactions, ${deliveredColumn(db, 'h.id')} AS "deliveredAt" FROM (
    SELECT ${MESSAGE_COLUMNS} FROM (
      ${side('$1::text', '$2::text')}
      UNION ALL
      ${side('$2::text', '$1::text', 'AND $1::text <> $2::text')}
    ) m ORDER BY "createdAt" DESC, id DESC LIMIT $3
  ) h ORDER BY h."createdAt" DESC, h.id DESC`;
}

/** Each statement once per schema (a process normally has one). */
function perSchema(build: (table: string, db: Database) => string): (db: Database) => string {
  const cache = new Map<string, string>();
  return (db) => {
    let text = cache.get(db.schema);
    if (text === undefined) cache.set(db.schema, (text = build(db.table('Message'), db)));
    return text;
  };
}
const HISTORY = perSchema((_t, db) => historySql(db, false));
const HISTORY_BEFORE = perSchema((_t, db) => historySql(db, true));

/** A history row: the message, its receipt, and its reactions as the reader sees them (null: none). */
export type HistoryRow = Message & { reactions: WireReaction[] | null; deliveredAt: Date | null };

/** The chat messages between two users older than `before`, newest first, at most `limit`, with their reactions as `me` sees them. */
export function historyRows(db: Database, me: string, peerId: string, before: Position | null, limit: number): Promise<HistoryRow[]> {
  return before
    ? db.sql<HistoryRow>(HISTORY_BEFORE(db), [me, peerId, limit, before.createdAt.toISOString(), before.id])
    : db.sql<HistoryRow>(HISTORY(db), [me, peerId, limit]);
}

/** A system message to store (DESIGN.md, system notifications): no sender. */
export interface SystemDraft {
  toUserId: string;
  messageType: string;
  content: string;
  metadata: unknown;
}

const INSERT_SYSTEM = perSchema(
  (t) => `
  INSERT INTO ${t} (id, "toUserId", "messageType", content, metadata)
  SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[]::jsonb[])
  RETURNING ${MESSAGE_COLUMNS}`,
);

/** Stores a batch of system messages in one statement per 5,000 (bounded parameter size). */
export async function insertSystemMessages(db: Database, drafts: SystemDraft[]): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < drafts.length; i += 5000) {
    const chunk = drafts.slice(i, i + 5000);
    out.push(
      ...(await db.sql<Message>(INSERT_SYSTEM(db), [
        chunk.map(() => uuidv7()),
        chunk.map((d) => d.toUserId),
        chunk.map((d) => d.messageType),
        chunk.map((d) => d.content),
        chunk.map((d) => JSON.stringify(d.metadata ?? {})),
      ])),
    );
  }
  return out;
}

/**
 * How far a sync may read without skipping a change that is still being written.
 *
 * Sync reads in change order (a row's `changedAt`, the time it was created or last edited,
 * recalled, read or reacted to, and its receipt's `deliveredAt`), which the database sets to the
 * writing transaction's start time, while a
 * sync sees only what has committed. A change still in flight when a sync runs could otherwise
 * commit behind the cursor that sync hands out, and the next sync would skip it. So a sync reads
 * only changes older than every transaction the module has open in this database right now (and
 * than now itself); what is newer comes in the next sync (the client has it live already). The
 * last page of a sync waits (syncHorizonPast, at most SYNC_SETTLE_MS) until the writes open when
 * the sync began have ended: a client that has just reconnected may have missed the live push of
 * a message committed before its socket joined, so everything committed before the sync began
 * must be in it. Only
 * the module writes messages, always on its own connections, which carry its `application_name`:
 * a host's transactions on the same database (its own tables, or a notification stored in its
 * transaction, which publishes only after it commits) are not waited for. One millisecond of
 * margin covers the stamps' rounding to milliseconds, and keeps a later change in the same
 * millisecond as a row already handed out (a tie broken by id, either way) from being skipped.
 * Transactions open for more than 30 s (a forgotten session) are not waited for.
 *
 * PGlite runs one statement or transaction at a time, so only the millisecond of margin applies.
 * Answers the horizon and the database's clock when it was read (`now`).
 */
export async function syncHorizon(db: Database): Promise<{ horizon: Date; now: Date } | null> {
  const [row] =
    db.kind === 'postgres'
      ? await db.sql<{ h: Date; now: Date }>(
          `SELECT least(clock_timestamp(), min(xact_start)) - interval '1 millisecond' AS h, clock_timestamp() AS now FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()
             AND xact_start > clock_timestamp() - interval '30 seconds'`,
          [db.applicationName],
        )
      : await db.sql<{ h: Date; now: Date }>(`SELECT clock_timestamp() - interval '1 millisecond' AS h, clock_timestamp() AS now`);
  return row ? { horizon: new Date(row.h), now: new Date(row.now) } : null;
}

/** How long the last page of a sync waits at most for the writes open when it began (syncHorizonPast). */
export const SYNC_SETTLE_MS = 300;

/**
 * Waits until the horizon has passed `t` (a time of the database's clock) by a millisecond, i.e.
 * until every write of the module that was open at `t` has ended, and answers that horizon; after
 * `maxMs` it answers the latest it read. Polls from 2 ms on, doubling, at most every 50 ms.
 */
export async function syncHorizonPast(db: Database, t: Date, maxMs = SYNC_SETTLE_MS): Promise<Date | null> {
  const target = t.getTime() + 1;
  const deadline = Date.now() + maxMs;
  let latest: Date | null = null;
  for (let wait = 2; ; wait = Math.min(50, wait * 2)) {
    await new Promise((r) => setTimeout(r, Math.max(0, Math.min(wait, deadline - Date.now()))));
    latest = (await syncHorizon(db))?.horizon ?? latest;
    if (latest === null || latest.getTime() >= target || Date.now() >= deadline) return latest;
  }
}

function syncSql(table: string, members: string, receipts: string, withHorizon: boolean): string {
  // $1 me, $2 how many rows each scan reads, $3/$4 the cursor (time, id), $5 the horizon.
  // Recalled messages are included (in their latest state: the wire leaves out their content).
  //
  // Two streams of changes, in time order: the messages by `changedAt` (created, edited,
  // recalled, read, reacted to) and their receipts ("Delivery") by `deliveredAt`. A message counts
  // (`ok`) in the stream of its latest change only, its receipt's when that is later than
  // `changedAt` (ties go to the message), so it comes once; its `at` (that change's time, then its
  // id) is the cursor's position. Every scan reads at most $2 rows after the cursor, those that
  // count and those that do not (a group's messages delivered after they were sent count in the
  // receipts only, so a filter in the scan could read a group's whole history to fill a page):
  // the page holds what counts up to where every scan got (`bound`, below).
  const after = (t: string, id: string) =>
    `${t} >= ${utc(3)} AND (${t} > ${utc(3)} OR ${id} > $4::uuid) ${withHorizon ? `AND ${t} < ${utc(5)}` : ''}`;
  // The message stream's scans: each message with its receipt.
  const changed = (scan: string, where: string) => `(SELECT m.*, d."deliveredAt", m."changedAt" AS at,
       (d."deliveredAt" IS NULL OR d."deliveredAt" <= m."changedAt") AS ok, ${scan} AS scan
     FROM ${table} m LEFT JOIN ${receipts} d ON d."messageId" = m.id
     WHERE ${where} AND ${after('m."changedAt"', 'm.id')}
     ORDER BY m."changedAt" FETCH FIRST $2 ROWS WITH TIES)`;
  // The receipt stream's: each receipt with its message.
  const delivered = (scan: string, where: string) => `(SELECT m.*, d."deliveredAt", d."deliveredAt" AS at,
       d."deliveredAt" > m."changedAt" AS ok, ${scan} AS scan
     FROM ${receipts} d JOIN ${table} m ON m.id = d."messageId"
     WHERE ${where} AND ${after('d."deliveredAt"', 'd."messageId"')}
     ORDER BY d."deliveredAt" FETCH FIRST $2 ROWS WITH TIES)`;
  // In my groups while I was a member (a scan per membership: messages from my time in the
  // group, changed before I left).
  const inMyGroups = (branch: typeof changed, scan: string, groupId: string, at: string) => `(SELECT g.* FROM ${members} gm CROSS JOIN LATERAL ${branch(
    `'${scan}' || gm."groupId"`,
    `${groupId} = gm."groupId" AND m."createdAt" >= gm."joinedAt"
       AND (gm."leftAt" IS NULL OR (m."createdAt" <= gm."leftAt" AND ${at} <= gm."leftAt"))`,
  )} g WHERE gm."userId" = $1::text)`;
  // Each scan reads its index in order ("Message": (toUserId | fromUserId | groupId, changedAt);
  // "Delivery": (toUserId | fromUserId | groupId, deliveredAt)); WITH TIES keeps the last time's
  // ties, so a scan that stopped has read everything up to its last time.
  //
  // `bound`: the last time of the nearest scan that read all it may (it has read everything up to
  // that time; null: every scan read to the end). The page: what counts up to the bound, in
  // change order, at most $2 rows; a row with a null id when there is none (it carries the bound).
  return `WITH scanned AS (
    ${changed(`'to'`, 'm."toUserId" = $1::text')}
    UNION ALL
    ${changed(`'from'`, 'm."fromUserId" = $1::text AND m."toUserId" <> $1::text')}
    UNION ALL
    ${inMyGroups(changed, 'g:', 'm."groupId"', 'm."changedAt"')}
    UNION ALL
    ${delivered(`'rto'`, 'd."toUserId" = $1::text')}
    UNION ALL
    ${delivered(`'rfrom'`, 'd."fromUserId" = $1::text AND d."groupId" IS NULL AND d."toUserId" <> $1::text')}
    UNION ALL
    ${inMyGroups(delivered, 'rg:', 'd."groupId"', 'd."deliveredAt"')}
  ), reach AS (
    SELECT min(last) AS bound FROM (SELECT max(at) AS last FROM scanned GROUP BY scan HAVING count(*) >= $2) s
  )
  SELECT reach.bound AT TIME ZONE 'UTC' AS bound, page.* FROM reach LEFT JOIN LATERAL (
    SELECT ${MESSAGE_COLUMNS}, "deliveredAt" AT TIME ZONE 'UTC' AS "deliveredAt", at AT TIME ZONE 'UTC' AS at FROM scanned m
    WHERE ok AND (reach.bound IS NULL OR at <= reach.bound) ORDER BY at, id LIMIT $2
  ) page ON true`;
}
const syncStatement = (withHorizon: boolean) => {
  const cache = new Map<string, string>();
  return (db: Database) => {
    let text = cache.get(db.schema);
    if (text === undefined) cache.set(db.schema, (text = syncSql(db.table('Message'), db.table('GroupMember'), db.table('Delivery'), withHorizon)));
    return text;
  };
};
const SYNC = syncStatement(false);
const SYNC_BOUNDED = syncStatement(true);

/** A message with its delivered receipt (null: none yet), as sync and `present` read it. */
export type DeliveredMessage = Message & { deliveredAt: Date | null };
/** A row of sync: the message in its latest state, and `at`, the time of its latest change. */
export type SyncRow = DeliveredMessage & { at: Date };

/** After every id: a position past everything at its time. */
const LAST_ID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

/**
 * Messages to or from `me`, and of my groups from when I joined to when I left, whose latest
 * change (created, changed, delivered) is after the position (and before `horizon`), in change
 * order. Each scan of the statement reads at most `scan` rows: `rows` holds the first `scan` of
 * the messages up to `bound`, the position every scan got to (null: all of them got to the end);
 * fewer, or none at all, when what the scans read was changed again later.
 */
export async function syncPage(db: Database, me: string, after: Position, horizon: Date | null, scan: number): Promise<{ rows: SyncRow[]; bound: Position | null }> {
  const params: unknown[] = [me, scan, after.createdAt.toISOString(), after.id];
  // Prepared: it takes longer to plan (14 scans for a user in 5 groups) than to run.
  const read = await (horizon
    ? db.prepared<SyncRow & { bound: Date | null }>(SYNC_BOUNDED(db), [...params, horizon.toISOString()])
    : db.prepared<SyncRow & { bound: Date | null }>(SYNC(db), params));
  const reach = read[0]?.bound ?? null;
  return {
    rows: read.filter((r) => r.id !== null).map(({ bound: _b, ...r }) => r as SyncRow),
    bound: reach === null ? null : { createdAt: reach, id: LAST_ID },
  };
}
