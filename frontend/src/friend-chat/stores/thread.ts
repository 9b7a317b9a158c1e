// Pure functions over one conversation's message list, so merge rules are testable and shared
// by live messages, sync pages and HTTP pages.
import type { ThreadWireMessage } from '../utils/messageKinds';
import type { WireReaction } from '../wire';

export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** A message of a conversation's timeline (chat, or a group event) as the window shows it. */
export type ChatMessage = ThreadWireMessage & {
  /** Render key: clientId ?? id. */
  key: string;
  /** Set only for own messages the server has not confirmed yet. */
  pending?: 'sending' | 'failed';
  /** Error code of the last failed attempt (e.g. NOT_FRIENDS, RATE_LIMITED, TIMEOUT). */
  error?: string;
};

export interface Thread {
  messages: ChatMessage[];
  /** Cursor for the page before the oldest loaded message; null = the start of the history. */
  olderCursor: string | null;
  /** True once a page came from the server; an unloaded thread holds only local sends. */
  loaded: boolean;
}

export const emptyThread = (): Thread => ({ messages: [], olderCursor: null, loaded: false });

/** Read wins over delivered; an unconfirmed send is sending or failed whatever else it says. */
export function statusOf(m: ChatMessage): MessageStatus {
  if (m.pending) return m.pending;
  if (m.isRead) return 'read';
  return m.deliveredAt ? 'delivered' : 'sent';
}

/** Server order (time, then id); unconfirmed messages stay last, in the order they were sent. */
export function compareMessages(a: ChatMessage, b: ChatMessage): number {
  if (!!a.pending !== !!b.pending) return a.pending ? 1 : -1;
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

const ownKey = (m: { fromUserId: string | null; clientId: string | null }) =>
  m.clientId ? `${m.fromUserId ?? ''}:${m.clientId}` : null;

// The same key before and after the server confirms a send, so Vue keeps the bubble's DOM. A
// server of round 1 leaves out the lifecycle fields: they get their empty values here.
const toChat = (m: ThreadWireMessage): ChatMessage => ({
  ...m,
  deliveredAt: m.deliveredAt ?? null,
  editedAt: m.editedAt ?? null,
  deletedAt: m.deletedAt ?? null,
  replyTo: m.replyTo ?? null,
  reactions: m.reactions ?? [],
  key: m.clientId ?? m.id,
});

/** Sync carries recalled messages again, with `deletedAt` set: they leave the list. */
export const isRecalled = (m: { deletedAt?: string | null }) => !!m.deletedAt;

/**
 * How to treat messages that are not in the list yet:
 * - 'all': add them (an older page, or a thread whose whole history is loaded);
 * - 'contiguous': add only those not older than the oldest loaded one (anything older would
 *   sit behind a gap of messages never fetched);
 * - 'replaceOnly': add nothing; only confirm own pending sends and update known messages.
 */
export type MergeMode = 'all' | 'contiguous' | 'replaceOnly';

/** Merge server messages into a list by id and by (sender, clientId): never a duplicate. */
export function mergeMessages(current: ChatMessage[], incoming: ThreadWireMessage[], mode: MergeMode): ChatMessage[] {
  const next = current.slice();
  const byId = new Map<string, number>();
  const byClient = new Map<string, number>();
  next.forEach((m, i) => {
    if (m.id) byId.set(m.id, i);
    const k = ownKey(m);
    if (k) byClient.set(k, i);
  });
  const oldest = next.find((m) => !m.pending);
  let changed = false;
  const recalled = new Set<string>();
  for (const m of incoming) {
    const k = ownKey(m);
    const at = byId.get(m.id) ?? (k ? byClient.get(k) : undefined);
    if (isRecalled(m)) {
      if (at !== undefined) recalled.add(m.id);
      continue;
    }
    if (at !== undefined) {
      next[at] = toChat(m);
      byId.set(m.id, at);
      changed = true;
      continue;
    }
    if (mode === 'replaceOnly') continue;
    const candidate = toChat(m);
    if (mode === 'contiguous' && oldest && compareMessages(candidate, oldest) < 0) continue;
    byId.set(m.id, next.push(candidate) - 1);
    if (k) byClient.set(k, next.length - 1);
    changed = true;
  }
  if (recalled.size) return next.filter((m) => !recalled.has(m.id)).sort(compareMessages);
  return changed ? next.sort(compareMessages) : current;
}

/**
 * Apply the latest page of a conversation (after a reconnect or on first open). Within the page's
 * range the server is the truth: recalled messages disappear, read flags update. Older loaded
 * messages stay when the page overlaps them; without overlap there may be a gap, so the page
 * replaces the list and older messages are fetched again on scroll.
 */
export function applyLatestPage(thread: Thread, page: ThreadWireMessage[], nextCursor: string | null): Thread {
  const confirmed = thread.messages.filter((m) => !m.pending);
  const pending = thread.messages.filter((m) => m.pending);
  const first = page[0];
  let older: ChatMessage[] = [];
  let olderCursor = nextCursor;
  if (first && nextCursor !== null && thread.loaded) {
    const pageIds = new Set(page.map((m) => m.id));
    if (confirmed.some((m) => pageIds.has(m.id))) {
      const firstChat = toChat(first);
      older = confirmed.filter((m) => !pageIds.has(m.id) && compareMessages(m, firstChat) < 0);
      olderCursor = thread.olderCursor;
    }
  }
  const fresh = page.filter((m) => !isRecalled(m)).map(toChat);
  const confirmedKeys = new Set(fresh.map(ownKey));
  const messages = [...older, ...fresh, ...pending.filter((p) => !confirmedKeys.has(ownKey(p)))];
  return { messages: messages.sort(compareMessages), olderCursor, loaded: true };
}

/** Mark messages as read: those `from` sent (to the other side of this thread). */
export function markRead(messages: ChatMessage[], from: string, readAt: string): ChatMessage[] {
  let changed = false;
  const next = messages.map((m) => {
    if (m.fromUserId !== from || m.isRead || m.pending) return m;
    changed = true;
    return { ...m, isRead: true, readAt };
  });
  return changed ? next : messages;
}

/** Messages in `ids` were received by their recipient at `at` (the first time counts). */
export function markDelivered(messages: ChatMessage[], ids: ReadonlySet<string>, at: string): ChatMessage[] {
  let changed = false;
  const next = messages.map((m) => {
    if (!ids.has(m.id) || m.deliveredAt) return m;
    changed = true;
    return { ...m, deliveredAt: at };
  });
  return changed ? next : messages;
}

/**
 * One reaction added (`on`) or taken back. `mine`: it is the current user's, whose state the
 * list knows, so a repeat (an optimistic change, then the server's echo) changes nothing.
 */
export function withReaction(list: WireReaction[], emoji: string, on: boolean, mine: boolean): WireReaction[] {
  const at = list.findIndex((r) => r.emoji === emoji);
  const current = list[at] ?? { emoji, count: 0, mine: false };
  if (mine && current.mine === on) return list;
  const next: WireReaction = { emoji, count: Math.max(0, current.count + (on ? 1 : -1)), mine: mine ? on : current.mine };
  if (next.count === 0) return list.filter((r) => r.emoji !== emoji);
  return at === -1 ? [...list, next] : list.map((r, i) => (i === at ? next : r));
}
