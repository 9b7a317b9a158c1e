// Batches chat message inserts. Under load, every send that arrives while a write is in
// flight joins the next batch: one INSERT … ON CONFLICT DO NOTHING RETURNING for the whole
// batch instead of a round trip per message. At low load a batch is one message and adds no
// wait (it is written on the next turn of the event loop).
//
// Each send still resolves only once its own row is committed, so "stored before it is
// acknowledged or pushed" holds message by message. Group messages of a batch are numbered in
// their groups and stored in one transaction with the membership re-checked (groups/seq.ts).
import type { Message, PrismaClient } from '../generated/prisma/client.ts';
import type { Database, SqlFn } from '../db/database.ts';
import { notFound } from '../http/errors.ts';
import { notMember } from '../groups/sql.ts';
import { storeNumbered, type Refusal } from '../groups/seq.ts';
import { uuidv7 } from './ids.ts';
import { MESSAGE_COLUMNS } from './sql.ts';

/**
 * The outbox rows of the messages a statement's `ins` CTE stored whose ids are in the array
 * `$n + 1` (those the host's hook wants), leased for `$n` ms to the node that stores them
 * (outbox.ts): its first attempt.
 */
export const outboxInsert = (db: Database, n: number) =>
  `INSERT INTO ${db.table('HookOutbox')} ("messageId", "runAt", attempts)
     SELECT id, (now() AT TIME ZONE 'UTC') + $${n}::int * interval '1 millisecond', 1 FROM ins WHERE id = ANY($${n + 1}::uuid[])`;

/** The error a refused group message answers. */
export const refusal = (why: Refusal) => (why === 'gone' ? notFound('Group') : notMember());

export interface Draft {
  fromUserId: string;
  /** A direct message's recipient, or null for a group message (`groupId`). */
  toUserId: string | null;
  groupId: string | null;
  content: string;
  clientId: string | null;
  /** The message this one answers (checked already), or null. */
  replyToId?: string | null;
  /** Whether the host's `messageSent` hook wants it (an outbox row is stored with it). */
  hook?: boolean;
}

export interface Written {
  message: Message;
  /** false when the clientId was already stored: the answer is the first message. */
  created: boolean;
}

interface Pending {
  draft: Draft & { id: string };
  resolve(w: Written): void;
  reject(err: unknown): void;
}

export function createMessageWriter(db: Database, opts: { maxBatch?: number; outboxLeaseMs?: number | null } = {}) {
  const { maxBatch = 500, outboxLeaseMs = null } = opts;
  const prisma: PrismaClient = db.prisma;
  // The batch insert in one statement: arrays in, one row per message out. Written in SQL rather
  // than through Prisma because it runs for every message and the ORM's per-query cost dominated
  // it (see bench/README.md). ON CONFLICT skips a clientId the sender already used.
  // `seq`: a group message's number (groups/seq.ts), null for a direct one.
  const COLUMNS = `INSERT INTO ${db.table('Message')} (id, "fromUserId", "toUserId", "groupId", content, "clientId", "replyToId", seq)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::uuid[], $8::bigint[])
    ON CONFLICT ("fromUserId", "clientId") DO NOTHING`;
  // With a `messageSent` hook, the same statement writes each stored message's outbox row,
  // leased to this node (outbox.ts): the row exists exactly when the message does.
  // A batch none of whose messages the hook wants (the usual case once senders are known) takes
  // the plain insert: the CTE form costs PostgreSQL more even with nothing to write to the outbox.
  const PLAIN = `${COLUMNS} RETURNING ${MESSAGE_COLUMNS}`;
  const WITH_OUTBOX = `WITH ins AS (${COLUMNS} RETURNING *), ob AS (${outboxInsert(db, 9)})
    SELECT ${MESSAGE_COLUMNS} FROM ins`;
  const insert = (sql: SqlFn, data: (Draft & { id: string; seq?: number })[]) => {
    const hooked = outboxLeaseMs === null ? [] : data.flatMap((d) => (d.hook ? [d.id] : []));
    return sql<Message>(hooked.length === 0 ? PLAIN : WITH_OUTBOX, [
      data.map((d) => d.id),
      data.map((d) => d.fromUserId),
      data.map((d) => d.toUserId),
      data.map((d) => d.groupId),
      data.map((d) => d.content),
      data.map((d) => d.clientId),
      data.map((d) => d.replyToId ?? null),
      data.map((d) => d.seq ?? null),
      ...(hooked.length === 0 ? [] : [outboxLeaseMs, hooked]),
    ]);
  };
  /**
   * Direct messages in one statement, then group messages numbered in one transaction. Answers
   * the rows stored, and why the group messages not stored were refused (or what failed them).
   */
  async function store(drafts: (Draft & { id: string })[]): Promise<{ rows: Message[]; failed: Map<string, unknown> }> {
    const direct = drafts.filter((d) => d.groupId === null);
    const grouped = drafts.flatMap((d) => (d.groupId === null ? [] : [{ ...d, groupId: d.groupId }]));
    const rows = direct.length ? await insert(db.prepared, direct) : [];
    const failed = new Map<string, unknown>();
    if (grouped.length === 0) return { rows, failed };
    try {
      const numbered = await storeNumbered(db, grouped, insert);
      for (const [d, why] of numbered.refused) failed.set(d.id, refusal(why));
      return { rows: [...rows, ...numbered.rows], failed };
    } catch (err) {
      // The direct messages are stored: only the group messages fail.
      for (const d of grouped) failed.set(d.id, err);
      return { rows, failed };
    }
  }
  let queue: Pending[] = [];
  let writing = false;
  let scheduled = false;

  async function writeBatch(batch: Pending[]): Promise<void> {
    // Two sends with the same (sender, clientId) in one batch: the second waits for the first.
    const firstByKey = new Map<string, Pending>();
    const followers: [Pending, Pending][] = [];
    const unique: Pending[] = [];
    for (const p of batch) {
      const key = p.draft.clientId === null ? null : `${p.draft.fromUserId}\u0000${p.draft.clientId}`;
      const first = key === null ? undefined : firstByKey.get(key);
      if (first) followers.push([p, first]);
      else {
        if (key !== null) firstByKey.set(key, p);
        unique.push(p);
      }
    }

    const { rows, failed } = await store(unique.map((p) => p.draft));

    const byId = new Map(rows.map((r) => [r.id, r]));
    // Rows not returned conflicted on (fromUserId, clientId), or were refused (the sender is no
    // longer a member): answer with the stored ones.
    const missing = unique.filter((p) => !byId.has(p.draft.id) && p.draft.clientId !== null);
    const existing = missing.length
      ? await prisma.message.findMany({
          where: { OR: missing.map((p) => ({ fromUserId: p.draft.fromUserId, clientId: p.draft.clientId })) },
        })
      : [];
    const byKey = new Map(existing.map((m) => [`${m.fromUserId}\u0000${m.clientId}`, m]));
    const answers = new Map<Pending, Written>();
    const failures = new Map<Pending, unknown>();
    for (const p of unique) {
      const row = byId.get(p.draft.id);
      const old = byKey.get(`${p.draft.fromUserId}\u0000${p.draft.clientId}`);
      if (row) answers.set(p, { message: row, created: true });
      else if (old) answers.set(p, { message: old, created: false });
      else failures.set(p, failed.get(p.draft.id) ?? new Error('message was neither inserted nor found'));
    }
    for (const [p, first] of followers) {
      const a = answers.get(first);
      if (a) answers.set(p, { message: a.message, created: false });
      else failures.set(p, failures.get(first) ?? new Error('message was neither inserted nor found'));
    }
    for (const [p, err] of failures) p.reject(err);
    for (const [p, w] of answers) p.resolve(w);
  }

  async function drain(): Promise<void> {
    if (writing) return;
    writing = true;
    try {
      while (queue.length > 0) {
        const batch = queue.slice(0, maxBatch);
        queue = queue.slice(batch.length);
        try {
          await writeBatch(batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      writing = false;
    }
  }

  return {
    write(draft: Draft): Promise<Written> {
      return new Promise<Written>((resolve, reject) => {
        queue.push({ draft: { ...draft, id: uuidv7() }, resolve, reject });
        if (!writing && !scheduled) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            void drain();
          });
        }
      });
    },
  };
}
export type MessageWriter = ReturnType<typeof createMessageWriter>;
