// What the chat module needs from the site that embeds it (DESIGN.md, "Module boundary"). The
// host implements these small interfaces over its own users, sessions and social graph and
// hands them to `createFriendChat`; nothing in the module knows the host otherwise.
import type { WireMessage } from './realtime/events.ts';

/** A user as the chat shows them. `id` is the host's own id, a string of 1–64 characters. */
export interface ChatUser {
  id: string;
  username: string;
  displayName: string;
  avatarUrl: string | null;
}

/**
 * A session as the host knows it: whose it is and, optionally, when it ends (ms since the epoch;
 * null or absent: the module does not know). A socket opened with the token is closed when it
 * ends (`session:closed`, reason `token_expired`).
 */
export interface Session {
  userId: string;
  expiresAt?: number | null;
}

/**
 * The host's authentication: a token (the `Authorization: Bearer` value, or the socket's
 * `auth.token`) → the user id (or a `Session`, which may tell when it ends), or null when it is
 * not a valid session. May be async. A null answer or a thrown error is answered 401
 * UNAUTHORIZED (socket: `connect_error` "unauthorized").
 */
export type Identify = (token: string) => string | Session | null | Promise<string | Session | null>;

/** The session `identify` answered, in one shape; null when it names no valid user id. */
export function toSession(answer: string | Session | null | undefined): { userId: string; expiresAt: number | null } | null {
  const s = typeof answer === 'string' ? { userId: answer } : answer;
  if (!s || typeof s !== 'object' || typeof s.userId !== 'string' || s.userId.length < 1 || s.userId.length > 64) return null;
  const expiresAt = typeof s.expiresAt === 'number' && Number.isFinite(s.expiresAt) ? s.expiresAt : null;
  return { userId: s.userId, expiresAt };
}

export interface UserDirectory {
  /** The users among `ids` that exist (any order; unknown ids are left out). */
  byIds(ids: string[]): Promise<ChatUser[]>;
}

/** The host's friendship (for the demo: a mutual follow). Only friends chat. */
export interface FriendGraph {
  areFriends(a: string, b: string): Promise<boolean>;
  friendIds(userId: string): Promise<string[]>;
  /**
   * Optional: the friend ids of many users in one call (one query), by user; a user left out has
   * none. Presence announces a batch of changes at a time and loads the lists it lacks with it;
   * without it, `friendIds` is called for each user, a few at a time.
   */
  friendIdsMany?(userIds: string[]): Promise<Map<string, string[]>>;
}

/** Events the host may react to ("first message" achievements and the like). */
export interface ChatHooks {
  /**
   * A chat message was stored (not for an idempotent resend of it). Called after the send is
   * answered, never on the sender's time: the module stores an outbox row with the message, in the
   * same statement, and runs the hook from it (backend/src/chat/outbox.ts), a few at a time per
   * node (`outbox.concurrency`). So what the hook stores exists shortly after the answer, not
   * before it.
   *
   * At least once: a node that dies (or a hook slower than the lease, `outbox.leaseMs`) leaves
   * the row to another node, which calls the hook again for that message. Make it idempotent,
   * e.g. keyed on `message.id` or on what it unlocks (the demo's achievement: a unique row per
   * user and achievement). A throw (or rejection) is retried with a doubling backoff, up to
   * `outbox.maxAttempts`; then it is logged and the row stays in "HookOutbox" with `failedAt`.
   */
  messageSent?(message: WireMessage): void | Promise<void>;
  /**
   * Which messages `messageSent` wants, asked (synchronously, from memory) as each message is
   * about to be stored: only those get an outbox row and a call. Without it, every message does.
   * A "first message" achievement answers false for senders it already knows have it, so a
   * sender's later messages cost nothing more than the message itself. A wrong `true` costs one
   * idempotent call; a wrong `false` loses the call for that message.
   */
  wantsMessageSent?(message: { fromUserId: string; toUserId: string | null; groupId: string | null }): boolean;
}
