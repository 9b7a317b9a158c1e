// Delivered acknowledgements (DESIGN.md, "Message lifecycle"), coalesced per node. Every
// `chat:delivered` from any socket of any user joins a queue; the queue is stored a few
// milliseconds later (or at once when it holds `maxIds` ids) in ONE statement for every
// (user, ids) pair, and while a statement runs the next acks wait for it and go together in the
// next one. Under load that is one statement per window instead of one per client batch: at
// 3,000 msgs/s each receiver's 150 ms batch holds about one id, so per-batch statements were as
// many as the sends themselves (bench/README.md, "Message lifecycle: delivered acks").
//
// Each caller keeps its own answer: a batch holding an id that is not the caller's is refused
// (NOT_FOUND) and none of its ids change, whatever the other callers of the same statement
// send; the others are stored. Each caller is answered only after the statement (its own
// transaction) committed, with the ids it stored and their `deliveredAt`: the receipt goes to
// everyone else concerned (the sender's sockets, the acker's other sockets, a group's members)
// but not to the acking socket, which learns it from that answer (a frame less per ack batch).
// A failed statement answers every caller of it with the error.
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { Bus } from '../realtime/bus.ts';
import { groupRoom } from '../groups/rooms.ts';

export interface DeliveredOptions {
  /** How long the first ack of a batch waits for others, in ms (default 5). */
  windowMs?: number;
  /** A statement holds at most about this many ids; a full queue is stored at once (default 2,000). */
  maxIds?: number;
  /** Called with what a push failed with (the acks are stored and answered regardless). */
  onError?: (err: unknown) => void;
}

interface PendingAck {
  me: string;
  ids: string[];
  /** The acking socket: the receipt's push leaves it out (it has the answer). */
  socketId: string | undefined;
  resolve(stored: Stored): void;
  reject(err: unknown): void;
}

/** What one ack stored: its ids that were not delivered before, and when (null: none). */
export interface Stored {
  messageIds: string[];
  deliveredAt: string | null;
}

export function createDeliveredAcks(db: Database, bus: Bus, opts: DeliveredOptions = {}) {
  const { windowMs = 5, maxIds = 2000, onError = () => {} } = opts;
  const M = db.table('Message');
  const GM = db.table('GroupMember');
  const D = db.table('Delivery');
  // $1 the caller of each pair (its index in the batch), $2 its user, $3 the message id.
  // A pair is valid when the message is a chat message to the user (direct: `toUserId`; group:
  // a current member since before it was sent, not its sender); a caller with any invalid pair
  // stores nothing. A receipt is a row of "Delivery" (migration 20261226000000_delivery_receipts),
  // not an update of the message: the message row is neither locked nor written. Each message
  // gets one, the first acknowledgement ever: the first caller of the batch that acks it is its
  // `by`, and the primary key keeps out a second one (another node's concurrent statement waits
  // for the first to commit, then inserts nothing). The rows go in id order, so two nodes storing
  // overlapping batches (a group's members acking the same message at once) wait for each other
  // instead of deadlocking. A recalled message gets no receipt.
  const STORE = `
    WITH req AS (
      SELECT * FROM unnest($1::int[], $2::text[], $3::uuid[]) AS r(caller, "userId", id)
    ), chk AS (
      SELECT r.caller, r."userId", r.id, EXISTS (
        SELECT 1 FROM ${M} m
        WHERE m.id = r.id AND m."messageType" = 'CHAT' AND m."fromUserId" <> r."userId"
          AND (m."toUserId" = r."userId" OR (m."groupId" IS NOT NULL AND EXISTS (
            SELECT 1 FROM ${GM} gm WHERE gm."groupId" = m."groupId" AND gm."userId" = r."userId"
              AND gm."leftAt" IS NULL AND m."createdAt" >= gm."joinedAt")))
      ) AS ok
      FROM req r
    ), bad AS (
      SELECT DISTINCT caller FROM chk WHERE NOT ok
    ), todo AS (
      SELECT DISTINCT ON (id) id, "userId", caller FROM chk
      WHERE caller NOT IN (SELECT caller FROM bad) ORDER BY id, caller
    ), ins AS (
      INSERT INTO ${D} ("messageId", "deliveredAt", "fromUserId", "toUserId", "groupId")
      SELECT m.id, now() AT TIME ZONE 'UTC', m."fromUserId", m."toUserId", m."groupId"
      FROM todo JOIN ${M} m ON m.id = todo.id
      WHERE m."deletedAt" IS NULL
      ORDER BY m.id
      ON CONFLICT ("messageId") DO NOTHING
      RETURNING "messageId" AS id, "fromUserId", "groupId", "deliveredAt" AT TIME ZONE 'UTC' AS "deliveredAt"
    )
    SELECT true AS ok, todo.caller, todo."userId" AS "by", ins.id, ins."fromUserId", ins."groupId", ins."deliveredAt" FROM ins JOIN todo ON todo.id = ins.id
    UNION ALL
    SELECT false, caller, NULL, NULL, NULL, NULL, NULL FROM bad`;

  type Row = { ok: boolean; caller: number; by: string | null; id: string | null; fromUserId: string | null; groupId: string | null; deliveredAt: Date | null };

  /** Stores one batch, pushes its receipts, answers its callers. Throws only when the statement fails. */
  async function store(batch: PendingAck[]): Promise<void> {
    const callers: number[] = [];
    const users: string[] = [];
    const ids: string[] = [];
    batch.forEach((p, i) => {
      for (const id of p.ids) {
        callers.push(i);
        users.push(p.me);
        ids.push(id);
      }
    });
    const rows = await db.prepared<Row>(STORE, [callers, users, ids]);
    const refused = new Set<number>();
    const stored: Stored[] = batch.map(() => ({ messageIds: [], deliveredAt: null }));
    // One push per (sender, acking socket) in a direct chat, per (group, acking socket) in a
    // group: the contract's `chat:delivered { by, messageIds, deliveredAt }` names one acker,
    // and the push leaves out the socket that acked.
    const pushes = new Map<string, { to: string | string[]; by: string; ids: string[]; groupId: string | null; at: string; except: string | undefined }>();
    for (const r of rows) {
      if (!r.ok) {
        refused.add(r.caller);
        continue;
      }
      if (r.id === null || r.deliveredAt === null || r.by === null) continue;
      const at = r.deliveredAt.toISOString();
      const mine = stored[r.caller]!;
      mine.messageIds.push(r.id);
      mine.deliveredAt = at;
      const except = batch[r.caller]!.socketId;
      const key = `${r.groupId ?? `user:${r.fromUserId}`}\u0000${r.by}\u0000${except ?? r.caller}`;
      let p = pushes.get(key);
      if (!p) {
        p = { to: r.groupId !== null ? groupRoom(r.groupId) : [r.fromUserId!, r.by], by: r.by, ids: [], groupId: r.groupId, at, except };
        pushes.set(key, p);
      }
      p.ids.push(r.id);
    }
    for (const p of pushes.values()) {
      try {
        bus.emit(p.to, 'chat:delivered', { by: p.by, messageIds: p.ids, deliveredAt: p.at, ...(p.groupId ? { groupId: p.groupId } : {}) }, p.except);
      } catch (err) {
        // Stored: the receipt comes with the next sync.
        onError(err);
      }
    }
    batch.forEach((p, i) => (refused.has(i) ? p.reject(notFound('Message to you')) : p.resolve(stored[i]!)));
  }

  let queue: PendingAck[] = [];
  let queuedIds = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let storing: Promise<void> | null = null;
  let closed = false;

  function drain(): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    // A non-empty queue awaits a statement before the loop can end, so `storing` is set before
    // it is cleared.
    if (!storing && queue.length > 0) storing = storeQueued();
    return storing ?? Promise.resolve();
  }

  async function storeQueued(): Promise<void> {
    try {
      // What arrives while a statement runs goes in the next one, without a new wait.
      while (queue.length > 0) {
        let n = 0;
        let k = 0;
        while (k < queue.length && (k === 0 || n + queue[k]!.ids.length <= maxIds)) n += queue[k++]!.ids.length;
        const batch = queue.slice(0, k);
        queue = queue.slice(k);
        queuedIds -= n;
        try {
          await store(batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      storing = null;
    }
  }

  return {
    /**
     * My client received these messages (1–100 ids, validated by the caller). Resolves once they
     * are stored (or were delivered already) with those this ack stored; NOT_FOUND when any id is
     * not a message to me. `socketId`: the acking socket, left out of the receipt's push.
     */
    ack(me: string, messageIds: string[], socketId?: string): Promise<Stored> {
      if (closed) return Promise.reject(new AppError('UNAVAILABLE', 'Shutting down'));
      return new Promise<Stored>((resolve, reject) => {
        const ids = [...new Set(messageIds)];
        queue.push({ me, ids, socketId, resolve, reject });
        queuedIds += ids.length;
        if (storing) return;
        if (queuedIds >= maxIds) void drain();
        else timer ??= setTimeout(() => void drain(), windowMs);
      });
    },

    /**
     * The node is closing, before its database: stores (and answers) what is queued and in
     * flight, without waiting for the window; an ack after this is refused with UNAVAILABLE.
     */
    close(): Promise<void> {
      closed = true;
      return drain();
    },
  };
}
export type DeliveredAcks = ReturnType<typeof createDeliveredAcks>;
