import { defineStore } from 'pinia';
import { watch } from 'vue';
import { request } from '../socket/client';
import { useMessagesStore } from './messages';
import { useUiStore } from './ui';
import { useUnreadStore } from './unread';
import { useWindowsStore } from './windows';

/** An expanded window on a visible, focused page marks its conversation read. */
export const useReadingStore = defineStore('friendChatReading', () => {
  const messages = useMessagesStore();
  const ui = useUiStore();
  const unread = useUnreadStore();
  const windows = useWindowsStore();
  const reading = new Set<string>();

  function markReadIfSeen(peerId: string): void {
    if (!ui.attentive || !windows.isShown(peerId) || reading.has(peerId)) return;
    const t = messages.threads[peerId];
    const unseen = unread.forPeer(peerId) > 0 || !!t?.messages.some((m) => m.fromUserId === peerId && !m.isRead);
    if (!unseen) return;
    reading.add(peerId);
    messages.markReadFrom(peerId, peerId, new Date().toISOString());
    unread.clearPeer(peerId);
    // On failure the server's next unread:update (or the reconnect refresh) restores the badge.
    request('chat:read', { peerId })
      .catch(() => {})
      .finally(() => reading.delete(peerId));
  }

  // Whatever may have made a message visible: the page, the layout, the windows, new messages.
  watch([() => ui.attentive, () => ui.narrow, () => unread.counts, () => windows.windows, () => messages.threads], () => {
    for (const w of windows.windows) markReadIfSeen(w.peerId);
  });

  function reset(): void {
    reading.clear();
  }

  return { markReadIfSeen, reset };
});
