// Catching up after a (re)connect.
//
// Cursor strategy: the last `nextCursor` of every `chat:sync` page is kept in localStorage per
// user, so a reconnect — or the next visit — resumes exactly where this browser left off. With no
// stored cursor yet (first login in this browser) we sync from the beginning, a bounded number of
// pages per connect: it is a one-time cost per browser, and it gives every later reconnect a real
// cursor. Old messages that come back this way are harmless: a conversation only accepts messages
// that join its loaded range (see MergeMode 'contiguous'), so they never sit behind a gap.
//
// Sync cannot tell about recalls and read receipts that happened while we were away, so after a
// *re*connect the latest page of each open window, the unread counts and any loaded lists are
// fetched again over HTTP.
import { useAuthStore } from '@/stores/auth';
import { useChatStore } from '@/stores/chat';
import { useFriendsStore } from '@/stores/friends';
import { useNotificationsStore } from '@/stores/notifications';
import { useUnreadStore } from '@/stores/unread';
import { isNotification } from '@/utils/messageKinds';
import { load, save } from '@/utils/storage';
import { request } from './client';

export const SYNC_PAGE_SIZE = 100;
export const MAX_SYNC_PAGES = 50;

const cursorKey = (userId: string) => `${userId}:sync-cursor`;
let running: Promise<void> | null = null;

/** Page through `chat:sync` from the stored cursor until nothing more is new. */
export function catchUp(): Promise<void> {
  running ??= (async () => {
    const userId = useAuthStore().user?.id;
    if (!userId) return;
    const chat = useChatStore();
    const notifications = useNotificationsStore();
    let after = load<string | null>(cursorKey(userId), null);
    for (let page = 0; page < MAX_SYNC_PAGES; page++) {
      const res = await request('chat:sync', after ? { after, limit: SYNC_PAGE_SIZE } : { limit: SYNC_PAGE_SIZE });
      const system = res.messages.filter(isNotification);
      chat.ingest(res.messages);
      notifications.ingest(system);
      after = res.nextCursor;
      // Stop if the user changed meanwhile: never write one user's cursor under another's key.
      if (useAuthStore().user?.id !== userId) return;
      save(cursorKey(userId), after);
      if (!res.hasMore) break;
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Runs on every `connect`; `reconnect` is false for the first connection of a session. */
export async function resync(reconnect: boolean): Promise<void> {
  const chat = useChatStore();
  const friends = useFriendsStore();
  const unread = useUnreadStore();
  const notifications = useNotificationsStore();
  const presence = request('presence:list', {}).then(({ online }) => friends.setOnlineList(online));
  await catchUp().catch(() => {});
  // Counts are fetched on every connect (not before it): a change between an earlier fetch and
  // the connection would otherwise never be pushed to us.
  const refreshes: Promise<unknown>[] = [unread.refresh()];
  if (reconnect) {
    refreshes.push(...chat.windows.map((w) => chat.loadLatest(w.peerId)));
    if (chat.conversationsLoaded) refreshes.push(chat.loadConversations());
    if (notifications.loaded) refreshes.push(notifications.refresh());
  }
  await Promise.allSettled([presence, ...refreshes]);
}
