// The `messageSent` outbox: the host's hook runs after the send is answered, at least once, even
// if the node dies in between (migration 20261223000000_hook_outbox, table "HookOutbox").
//
// - The statement that stores a message also writes its outbox row (writer.ts, rich.ts), leased
//   to the storing node for `leaseMs` ("runAt" = now + lease): no extra round trip on the send.
// - The storing node runs the hook from memory right after the answer (`enqueue`), at most
//   `concurrency` at a time, so a storm of first messages cannot take every database connection;
//   a success deletes the row (deletes are coalesced into one statement at a time).
// - Every node polls (every `pollIntervalMs`, and once at start) for rows whose "runAt" has come:
//   leases of a node that died, retries. It claims them with FOR UPDATE SKIP LOCKED, moving
//   "runAt" one lease ahead, so two nodes never hold one row at once.
// - A hook that throws is retried after a backoff (`retryBaseMs`, doubling, at most 5 min), by
//   whichever node polls first; after `maxAttempts` the row keeps "failedAt" and "lastError" (the
//   error is logged) and is never run again by the module.
// - A row is run only within its lease: a queued entry whose lease is about to end is left to the
//   pollers rather than run late, so a node holding a long backlog cannot run a row another node
//   has claimed meanwhile. A hook that itself runs longer than the lease may overlap a retry.
import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import type { WireMessage } from '../realtime/events.ts';
import type { Present } from './lifecycle.ts';

export interface OutboxOptions {
  /** Hooks running at once on this node (default 4). */
  concurrency?: number;
  /** How long a node holds a row it stored or claimed before another may claim it (default 60 s). */
  leaseMs?: number;
  /** How often each node looks for rows left by others or due for a retry (default 5 s). */
  pollIntervalMs?: number;
  /** Attempts per message before its row is marked failed (default 10). */
  maxAttempts?: number;
  /** The wait before the first retry; each further one doubles, up to 5 minutes (default 1 s). */
  retryBaseMs?: number;
  /** Messages waiting in memory at most; more are left to the pollers (default 10,000). */
  maxQueued?: number;
}

interface Entry {
  message: WireMessage;
  /** Past this (local clock), the lease may have ended: leave it to the pollers. */
  deadline: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;
const CLAIM_BATCH = 100;

export function createHookOutbox(deps: {
  db: Database;
  hook: (message: WireMessage) => void | Promise<void>;
  /** Which messages the hook wants (the host's `wantsMessageSent`); without it, all of them. */
  wants?: (message: { fromUserId: string; toUserId: string | null; groupId: string | null }) => boolean;
  present: Present;
  logger: Logger;
  options?: OutboxOptions;
}) {
  const { db, hook, present, logger } = deps;
  const o = deps.options ?? {};
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const leaseMs = Math.max(1_000, o.leaseMs ?? 60_000);
  const pollIntervalMs = Math.max(10, o.pollIntervalMs ?? 5_000);
  const maxAttempts = Math.max(1, o.maxAttempts ?? 10);
  const retryBaseMs = Math.max(1, o.retryBaseMs ?? 1_000);
  const maxQueued = Math.max(1, o.maxQueued ?? 10_000);
  // Kept from the end of the lease: the hook should have finished by then.
  const margin = Math.min(10_000, Math.floor(leaseMs / 4));
  const T = db.table('HookOutbox');
  const NOW = `(now() AT TIME ZONE 'UTC')`;
  const onError = (err: unknown) => logger.error('friend-chat: messageSent outbox', err);

  // A full claim asks for the next as soon as the queue has room.
  let claimMore = false;
  let polling: Promise<void> | null = null;
  const queue: Entry[] = [];
  let head = 0;
  let running = 0;
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  // Successful rows, deleted together by one statement at a time.
  let done: string[] = [];
  let deleting: Promise<void> | null = null;
  function flushDeletes(): Promise<void> {
    if (deleting || done.length === 0) return deleting ?? Promise.resolve();
    const ids = done;
    done = [];
    deleting = db
      .sql(`DELETE FROM ${T} WHERE "messageId" = ANY($1::uuid[])`, [ids])
      .then(
        () => {},
        (err: unknown) => {
          // Tried again with the next ones; past the bound, the lease runs out and they run again.
          if (done.length + ids.length <= maxQueued) done.push(...ids);
          onError(err);
        },
      )
      .finally(() => {
        deleting = null;
        if (done.length > 0 && !closed) void flushDeletes();
      });
    return deleting;
  }

  async function failed(id: string, err: unknown): Promise<void> {
    const text = (err instanceof Error ? err.stack ?? err.message : String(err)).slice(0, 2_000);
    // "attempts" counts the runs started (the storing node's included): the next wait doubles.
    const [row] = await db.sql<{ attempts: number; failed: boolean }>(
      `UPDATE ${T} SET "lastError" = $2::text,
         "failedAt" = CASE WHEN attempts >= $3::int THEN ${NOW} END,
         "runAt" = ${NOW} + LEAST($4::float8 * power(2, GREATEST(attempts - 1, 0)), $5::float8) * interval '1 millisecond'
       WHERE "messageId" = $1::uuid
       RETURNING attempts, "failedAt" IS NOT NULL AS failed`,
      [id, text, maxAttempts, retryBaseMs, MAX_BACKOFF_MS],
    );
    if (row?.failed) logger.error(`friend-chat: messageSent hook failed ${row.attempts} times for message ${id}; given up (its HookOutbox row keeps failedAt)`, err);
    else logger.debug(`friend-chat: messageSent hook failed for message ${id} (attempt ${row?.attempts ?? '?'}), retried later: ${text.split('\n')[0]}`);
  }

  async function run(e: Entry): Promise<void> {
    try {
      await hook(e.message);
    } catch (err) {
      await failed(e.message.id, err).catch(onError);
      return;
    }
    done.push(e.message.id);
    void flushDeletes();
  }

  function pump(): void {
    while (!closed && running < concurrency && head < queue.length) {
      const e = queue[head++]!;
      if (head > 1024 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      // Its lease may have ended: a poller (this node's or another's) runs it instead.
      if (Date.now() > e.deadline) continue;
      running++;
      const p = run(e).finally(() => {
        running--;
        inFlight.delete(p);
        pump();
      });
      inFlight.add(p);
    }
    if (head >= queue.length && running < concurrency && claimMore && !closed) {
      claimMore = false;
      void poll();
    }
  }

  const queued = () => queue.length - head;
  // Hooks start on a later turn of the event loop: never before the answer that queued them.
  let scheduled = false;
  function push(message: WireMessage, deadline: number): boolean {
    if (closed || queued() >= maxQueued) return false;
    queue.push({ message, deadline });
    if (!scheduled) {
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        pump();
      });
    }
    return true;
  }

  function poll(): Promise<void> {
    polling ??= claim()
      .catch(onError)
      .finally(() => (polling = null));
    return polling;
  }
  async function claim(): Promise<void> {
    const room = Math.min(CLAIM_BATCH, maxQueued - queued());
    if (closed || room <= 0) return;
    const claimed = await db.sql<{ id: string }>(
      `UPDATE ${T} o SET "runAt" = ${NOW} + $2::int * interval '1 millisecond', attempts = o.attempts + 1
       FROM (SELECT "messageId" FROM ${T} WHERE "failedAt" IS NULL AND "runAt" <= ${NOW}
             ORDER BY "runAt" LIMIT $1::int FOR UPDATE SKIP LOCKED) due
       WHERE o."messageId" = due."messageId"
       RETURNING o."messageId"::text AS id`,
      [room, leaseMs],
    );
    if (claimed.length === 0) return;
    const deadline = Date.now() + leaseMs - margin;
    const ids = claimed.map((c) => c.id);
    const rows = await db.prisma.message.findMany({ where: { id: { in: ids } }, orderBy: { createdAt: 'asc' } });
    // A message deleted meanwhile (its sender deleted with their messages): nothing to run.
    const found = new Set(rows.map((r) => r.id));
    for (const id of ids) if (!found.has(id)) done.push(id);
    void flushDeletes();
    for (const m of await present(rows)) push(m, deadline);
    claimMore = claimed.length === room;
    pump();
  }

  let timer: NodeJS.Timeout | null = null;

  return {
    /** The lease a stored row starts with (the writers' `runAt`), in ms. */
    leaseMs,

    /** Whether a message about to be stored gets an outbox row (and, once stored, `enqueue`). */
    wants(message: { fromUserId: string; toUserId: string | null; groupId: string | null }): boolean {
      return deps.wants ? deps.wants(message) : true;
    },

    /** Right after the send's answer: run the hook for a message this node just stored. */
    enqueue(message: WireMessage): void {
      // Not queued (a full queue, closing): its row stays, and a poller runs it after the lease.
      push(message, Date.now() + leaseMs - margin);
    },

    /** Starts polling for rows left by other nodes (or an earlier run of this one) and retries. */
    start(): void {
      if (timer || closed) return;
      void poll();
      timer = setInterval(() => void poll(), pollIntervalMs);
      timer.unref();
    },

    /** Looks for due rows now (tests). */
    poll,

    /** Hooks running and queued on this node. */
    pending: () => running + queued(),

    /**
     * Stops taking work, waits (at most `waitMs`) for the hooks running, deletes their rows, and
     * hands the queued ones back (their "runAt" now), so any node runs them without waiting for
     * the lease.
     */
    async close(waitMs = 5_000): Promise<void> {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      const left = queue.slice(head).map((e) => e.message.id);
      queue.length = 0;
      head = 0;
      await Promise.race([Promise.allSettled([...inFlight, polling]), new Promise((r) => setTimeout(r, waitMs).unref())]);
      await deleting;
      if (done.length > 0) {
        const ids = done;
        done = [];
        await db.sql(`DELETE FROM ${T} WHERE "messageId" = ANY($1::uuid[])`, [ids]).catch(onError);
      }
      if (left.length > 0) await db.sql(`UPDATE ${T} SET "runAt" = ${NOW} WHERE "messageId" = ANY($1::uuid[])`, [left]).catch(onError);
    },
  };
}
export type HookOutbox = ReturnType<typeof createHookOutbox>;
