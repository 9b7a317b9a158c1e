// notificationService: a host's events (an achievement unlocked, a follow, a sale, or any type
// the host names) become system messages (fromUserId null), stored and then pushed live.
//
// Two halves, so a notification can never be lost to a push failure:
//   store(tx, …)  — inside the host's own PostgreSQL transaction on the same database: the
//                   notification commits with the host's change, or not at all.
//   publish(msgs) — after commit: `notification:new` + `unread:update`; never throws.
// `transaction` runs both around the host's transaction; `notify` / `notifyMany` store and
// publish for hosts with no transaction of their own.
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import { insertSystemMessages, MESSAGE_COLUMNS } from '../chat/sql.ts';
import { uuidv7 } from '../chat/ids.ts';
import type { Bus } from '../realtime/bus.ts';
import type { SystemMessageType, SystemMetadata, WireMessage } from '../realtime/events.ts';
import type { UnreadService } from '../chat/unread.ts';
import { toWire } from '../chat/wire.ts';
import type { UserDirectory } from '../ports.ts';

/** A built-in type with its typed metadata. */
export type BuiltInNotificationDraft = {
  [K in SystemMessageType]: { type: K; content?: string; metadata: SystemMetadata[K] };
}[SystemMessageType];

/**
 * What a host notifies: a built-in type with its metadata, or a type of its own (a name like
 * `SYSTEM_LIKE`: uppercase letters, digits, `_`, at most 64) with any JSON metadata. `content`
 * is the plain-text fallback clients show when they cannot render the type.
 */
export type NotificationDraft = BuiltInNotificationDraft | { type: string; content?: string; metadata?: Record<string, unknown> };

/**
 * A transaction of the host's on the module's database: a Prisma client or transaction client
 * (`$queryRawUnsafe`), or a node-postgres client (`query(text, values)`).
 */
export type HostTransaction =
  | { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> }
  | { query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }> };

export const NOTIFICATION_TYPE = /^[A-Z][A-Z0-9_]{0,63}$/;
const MAX_CONTENT = 2000;

/** The draft checked as the database will take it; a bad one throws (the host's bug, not a user's). */
function checkDraft(draft: NotificationDraft): { type: string; content: string; metadata: string } {
  if (!draft || typeof draft !== 'object') throw new TypeError('friend-chat: a notification draft must be an object');
  const { type, content = '', metadata = {} } = draft;
  if (typeof type !== 'string' || !NOTIFICATION_TYPE.test(type) || type === 'CHAT') {
    throw new TypeError(`friend-chat: notification type ${JSON.stringify(type)} must match ${NOTIFICATION_TYPE} and not be CHAT`);
  }
  if (typeof content !== 'string' || content.length > MAX_CONTENT || content.includes('\u0000')) {
    throw new TypeError(`friend-chat: notification content must be a string of at most ${MAX_CONTENT} characters without NUL`);
  }
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) {
    throw new TypeError('friend-chat: notification metadata must be a plain object');
  }
  assertJson(metadata, 'metadata', new Set());
  return { type, content, metadata: JSON.stringify(metadata) };
}

/** Throws unless `value` survives JSON unchanged: no functions, BigInt, symbols, cycles, class instances, NaN. */
function assertJson(value: unknown, path: string, seen: Set<object>): void {
  const fail = (what: string) => {
    throw new TypeError(`friend-chat: notification ${path} is not JSON-serialisable (${what})`);
  };
  switch (typeof value) {
    case 'string':
      if (value.includes('\u0000')) fail('a string with a NUL character');
      return;
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(String(value));
      return;
    case 'object': {
      if (value === null) return;
      if (seen.has(value)) fail('a cycle');
      const proto = Object.getPrototypeOf(value);
      if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) fail(`a ${proto?.constructor?.name ?? 'class'} instance`);
      seen.add(value);
      for (const [k, v] of Object.entries(value)) assertJson(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, seen);
      seen.delete(value);
      return;
    }
    default:
      fail(typeof value);
  }
}

export function createNotificationService(
  db: Database,
  bus: Bus,
  unread: UnreadService,
  users: UserDirectory,
  onError: (err: unknown) => void = () => {},
) {
  const INSERT_ONE = `INSERT INTO ${db.table('Message')} (id, "toUserId", "messageType", content, metadata)
    VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::text::jsonb) RETURNING ${MESSAGE_COLUMNS}`;

  /** The ids among `userIds` the host does not know; a notification to one of them is refused. */
  async function assertUsersExist(userIds: string[]): Promise<void> {
    for (const id of userIds) {
      if (typeof id !== 'string' || id.length < 1 || id.length > 64) {
        throw new TypeError(`friend-chat: ${JSON.stringify(id)} is not a user id (a string of 1–64 characters)`);
      }
    }
    const unique = [...new Set(userIds)];
    const known = new Set<string>();
    for (let i = 0; i < unique.length; i += 1000) {
      for (const u of await users.byIds(unique.slice(i, i + 1000))) known.add(u.id);
    }
    const unknown = unique.filter((id) => !known.has(id));
    if (unknown.length) throw new Error(`friend-chat: cannot notify unknown user(s) ${unknown.slice(0, 5).map((u) => JSON.stringify(u)).join(', ')}`);
  }

  /**
   * Pushes stored notifications to their users' tabs. A failure is logged, never thrown, and
   * each push stands alone: one that fails does not cost the others theirs.
   */
  async function publish(messages: WireMessage | WireMessage[]): Promise<void> {
    const list = Array.isArray(messages) ? messages : [messages];
    // Notifications always have a recipient (group messages have none and never come here).
    const recipients = list.flatMap((m) => (m.toUserId === null ? [] : [m.toUserId]));
    for (const message of list) {
      if (message.toUserId === null) continue;
      try {
        bus.emit(message.toUserId, 'notification:new', { message });
      } catch (err) {
        onError(err);
      }
    }
    try {
      // Recounts per user, each on its own (unread.push never throws for one user).
      await unread.push(recipients);
    } catch (err) {
      onError(err);
    }
  }

  /**
   * Stores a notification inside the host's transaction (same database), so it exists exactly
   * when the host's change commits. The host vouches for the user (it is its own transaction);
   * publish what this returns once the transaction committed.
   */
  async function store(tx: HostTransaction, userId: string, draft: NotificationDraft): Promise<WireMessage> {
    const { type, content, metadata } = checkDraft(draft);
    if (typeof userId !== 'string' || userId.length < 1 || userId.length > 64) {
      throw new TypeError(`friend-chat: ${JSON.stringify(userId)} is not a user id (a string of 1–64 characters)`);
    }
    const params = [uuidv7(), userId, type, content, metadata];
    const rows =
      '$queryRawUnsafe' in tx
        ? await tx.$queryRawUnsafe<Message[]>(INSERT_ONE, ...params)
        : ((await tx.query(INSERT_ONE, params)).rows as Message[]);
    const row = rows[0]!;
    return toWire({ ...row, createdAt: new Date(row.createdAt), readAt: row.readAt && new Date(row.readAt) });
  }

  const RECENT = `SELECT 1 AS found FROM ${db.table('Message')}
    WHERE "toUserId" = $1::text AND "messageType" = $2::text AND "createdAt" >= ($3::timestamptz AT TIME ZONE 'UTC')
      AND metadata #>> $4::text[] = $5::text LIMIT 1`;

  /**
   * Whether `userId` was sent a notification of `type` since `since` whose metadata holds `equals`
   * at `path` (deleted ones included) — for a host that announces something at most once in a
   * while. Runs in the host's transaction, so a check and the store after it are one decision.
   */
  async function sentSince(
    tx: HostTransaction,
    userId: string,
    q: { type: string; since: Date; path: string[]; equals: string },
  ): Promise<boolean> {
    const params = [userId, q.type, q.since.toISOString(), q.path, q.equals];
    const rows = '$queryRawUnsafe' in tx ? await tx.$queryRawUnsafe<unknown[]>(RECENT, ...params) : (await tx.query(RECENT, params)).rows;
    return rows.length > 0;
  }

  /** Stores many (each user, its draft) in one statement per 5,000, then pushes. */
  async function notifyEach(items: { userId: string; draft: NotificationDraft }[], onStored?: () => void): Promise<WireMessage[]> {
    if (items.length === 0) return [];
    const checked = items.map((i) => ({ userId: i.userId, ...checkDraft(i.draft) }));
    await assertUsersExist(checked.map((c) => c.userId));
    const rows = await insertSystemMessages(
      db,
      checked.map((c) => ({ toUserId: c.userId, messageType: c.type, content: c.content, metadata: JSON.parse(c.metadata) })),
    );
    onStored?.();
    const messages = rows.map(toWire);
    await publish(messages);
    return messages;
  }

  return {
    store,
    publish,
    sentSince,
    notifyEach,

    /** Stores and pushes one notification. Unknown user or a bad draft → throws, nothing stored. */
    async notify(userId: string, draft: NotificationDraft): Promise<WireMessage> {
      return (await notifyEach([{ userId, draft }]))[0]!;
    },

    /** The same notification to many users: one insert per 5,000, then the pushes. */
    notifyMany(userIds: string[], draft: NotificationDraft, onStored?: () => void): Promise<WireMessage[]> {
      return notifyEach(
        userIds.map((userId) => ({ userId, draft })),
        onStored,
      );
    },

    /**
     * The host's transaction with notifications in it: `client.$transaction` (a Prisma client,
     * or any object with an interactive `$transaction(fn)`) runs `body`, which does the host's
     * change and calls `notify(userId, draft)` to store notifications in it. Once committed,
     * `afterCommit` runs (the host's caches), then every stored notification is pushed. A
     * transaction that fails stores and pushes nothing.
     */
    async transaction<TX extends HostTransaction, T>(
      client: { $transaction<R>(fn: (tx: TX) => Promise<R>): Promise<R> },
      body: (tx: TX, notify: (userId: string, draft: NotificationDraft) => Promise<WireMessage>) => Promise<T>,
      opts: { afterCommit?: (result: T) => void | Promise<void> } = {},
    ): Promise<T> {
      let stored: WireMessage[] = [];
      const result = await client.$transaction(async (tx) => {
        stored = [];
        return body(tx, async (userId, draft) => {
          const m = await store(tx, userId, draft);
          stored.push(m);
          return m;
        });
      });
      await opts.afterCommit?.(result);
      await publish(stored);
      return result;
    },
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
