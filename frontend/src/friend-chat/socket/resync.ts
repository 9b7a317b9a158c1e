// Catching up after a (re)connect.
//
// Cursor strategy: the last `nextCursor` of every `chat:sync` page is kept in localStorage per
// user, so a reconnect — or the next visit — resumes exactly where this browser left off. With no
// stored cursor yet (first login in this browser) we sync from the beginning, a bounded number of
// pages per connect: it is a one-time cost per browser, and it gives every later reconnect a real
// cursor. Old messages that come back this way are harmless: a conversation only accepts messages
// that join its loaded range (see MergeMode 'contiguous'), so they never sit behind a gap.
//
// Sync brings a message again when it changed after the cursor (edited, recalled — with
// `deletedAt` —, reacted to, delivered, read): the stores replace it in place or take it out,
// never add it twice. A server of round 1 does not, and counts and lists are not messages, so
// after a *re*connect the latest page of each open window, the unread counts and any loaded lists
// are still fetched again over HTTP.
import type { Pinia } from 'pinia';
import { useChatStore } from '../stores/chat';
import { useConversationsStore } from '../stores/conversations';
import { useFriendsStore } from '../stores/friends';
import { useGroupsStore } from '../stores/groups';
import { useMessagesStore } from '../stores/messages';
import { useNotificationsStore } from '../stores/notifications';
import { useSessionStore } from '../stores/session';
import { useUnreadStore } from '../stores/unread';
import { useWindowsStore } from '../stores/windows';
import { groupIdOf } from '../utils/conversation';
import { isNotification, isThreadMessage } from '../utils/messageKinds';
import { load, save } from '../utils/storage';
import { request, SocketRequestError } from './client';

export const SYNC_PAGE_SIZE = 100;
export const MAX_SYNC_PAGES = 50;
/** The server budgets requests per user per second; a page it refused is asked again after this. */
export const RATE_LIMITED_RETRY_MS = 1_000;
const RATE_LIMITED_RETRIES = 3;

/** One sync page; when the server answers RATE_LIMITED (many tabs catching up at once), wait and ask again. */
async function syncPage(payload: { after?: string; limit: number }) {
  for (let retry = 0; ; retry++) {
    try {
      return await request('chat:sync', payload);
    } catch (err) {
      if (!(err instanceof SocketRequestError) || err.code !== 'RATE_LIMITED' || retry >= RATE_LIMITED_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, RATE_LIMITED_RETRY_MS));
    }
  }
}

const cursorKey = (userId: string) => `${userId}:sync-cursor`;
let running: Promise<void> | null = null;

/** Page through `chat:sync` from the stored cursor until nothing more is new. */
export function catchUp(pinia: Pinia): Promise<void> {
  running ??= (async () => {
    const session = useSessionStore(pinia);
    const userId = session.userId;
    if (!userId) return;
    const chat = useChatStore(pinia);
    const notifications = useNotificationsStore(pinia);
    let after = load<string | null>(cursorKey(userId), null);
    for (let page = 0; page < MAX_SYNC_PAGES; page++) {
      const res = await syncPage(after ? { after, limit: SYNC_PAGE_SIZE } : { limit: SYNC_PAGE_SIZE });
      chat.ingest(res.messages.filter(isThreadMessage));
      notifications.ingest(res.messages.filter(isNotification));
      after = res.nextCursor;
      // Stop if the user changed meanwhile: never write one user's cursor under another's key.
      if (session.userId !== userId) return;
      save(cursorKey(userId), after);
      if (!res.hasMore) break;
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Runs on every `connect`; `reconnect` is false for the first connection of a session. */
export async function resync(pinia: Pinia, reconnect: boolean): Promise<void> {
  const conversations = useConversationsStore(pinia);
  const friends = useFriendsStore(pinia);
  const groups = useGroupsStore(pinia);
  const messages = useMessagesStore(pinia);
  const notifications = useNotificationsStore(pinia);
  const unread = useUnreadStore(pinia);
  const windows = useWindowsStore(pinia);
  const presence = request('presence:list', {}).then(({ online }) => friends.setOnlineList(online));
  await catchUp(pinia).catch(() => {});
  // Counts are fetched on every connect (not before it): a change between an earlier fetch and
  // the connection would otherwise never be pushed to us.
  // My groups too: who is in which, and mutes, may have changed while away.
  const refreshes: Promise<unknown>[] = [unread.refresh(), groups.load()];
  if (reconnect) {
    refreshes.push(...windows.windows.map((w) => messages.loadLatest(w.key)));
    const openGroups = windows.windows.map((w) => groupIdOf(w.key)).filter((id) => id !== null);
    refreshes.push(...openGroups.filter((id) => groups.members[id]).map((id) => groups.fetchMembers(id)));
    if (conversations.loaded) refreshes.push(conversations.load());
    if (notifications.loaded) refreshes.push(notifications.refresh());
  }
  await Promise.allSettled([presence, ...refreshes]);
}
