// The Message table's hot paths in plain SQL, run through the driver rather than the ORM
// (its per-query cost dominated them; see bench/README.md). Rows come back shaped as Prisma's
// `Message`, times as UTC Dates, so everything downstream treats them alike.
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import type { Position } from './cursor.ts';
import { uuidv7 } from './ids.ts';

/** The columns of a Message row, timestamps read back as UTC instants. */
export const MESSAGE_COLUMNS = `id, "fromUserId", "toUserId", "messageType", content, metadata, "clientId", "isRead",
  "readAt" AT TIME ZONE 'UTC' AS "readAt", "createdAt" AT TIME ZONE 'UTC' AS "createdAt",
  "deletedAt" AT TIME ZONE 'UTC' AS "deletedAt"`;

/** A cursor's time as the column stores it (UTC, without a time zone). */
const AT = `($4::timestamptz AT TIME ZONE 'UTC')`;

function historySql(withCursor: boolean): string {
  // Strictly older than the cursor, in (createdAt, id) order; written so the index on
  // (fromUserId, toUserId, createdAt) bounds the scan.
  const older = withCursor ? `AND "createdAt" <= ${AT} AND ("createdAt" < ${AT} OR id < $5::uuid)` : '';
  // Each direction reads only its newest `limit` rows, in the index's own order (createdAt;
  // WITH TIES keeps every row that shares the last one's time, so the id tie-break below is
  // exact), instead of the whole conversation that one OR over both directions fetches and sorts.
  const side = (from: string, to: string, extra = '') => `(
    SELECT * FROM "Message"
    WHERE "fromUserId" = ${from} AND "toUserId" = ${to} AND "deletedAt" IS NULL AND "messageType" = 'CHAT' ${older} ${extra}
    ORDER BY "createdAt" DESC FETCH FIRST $3 ROWS WITH TIES)`;
  return `SELECT ${MESSAGE_COLUMNS} FROM (
    ${side('$1::uuid', '$2::uuid')}
    UNION ALL
    ${side('$2::uuid', '$1::uuid', 'AND $1::uuid <> $2::uuid')}
  ) m ORDER BY "createdAt" DESC, id DESC LIMIT $3`;
}
const HISTORY = historySql(false);
const HISTORY_BEFORE = historySql(true);

/** True when the user exists. */
export async function userExists(db: Database, id: string): Promise<boolean> {
  return (await db.sql('SELECT 1 FROM "User" WHERE id = $1::uuid', [id])).length > 0;
}

/** The chat messages between two users older than `before`, newest first, at most `limit`. */
export function historyRows(db: Database, me: string, peerId: string, before: Position | null, limit: number): Promise<Message[]> {
  return before
    ? db.sql<Message>(HISTORY_BEFORE, [me, peerId, limit, before.createdAt.toISOString(), before.id])
    : db.sql<Message>(HISTORY, [me, peerId, limit]);
}

/** A system message to store (DESIGN.md, system notifications): no sender. */
export interface SystemDraft {
  toUserId: string;
  messageType: string;
  content: string;
  metadata: unknown;
}

const INSERT_SYSTEM = `
  INSERT INTO "Message" (id, "toUserId", "messageType", content, metadata)
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]::"MessageType"[], $4::text[], $5::text[]::jsonb[])
  RETURNING ${MESSAGE_COLUMNS}`;

/** Stores a batch of system messages in one statement per 5,000 (bounded parameter size). */
export async function insertSystemMessages(db: Database, drafts: SystemDraft[]): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < drafts.length; i += 5000) {
    const chunk = drafts.slice(i, i + 5000);
    out.push(
      ...(await db.sql<Message>(INSERT_SYSTEM, [
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
