import { defineStore } from 'pinia';
import { watch } from 'vue';
import { request } from '../socket/client';
import { groupIdOf, type ConversationKey } from '../utils/conversation';
import { useGroupsStore } from './groups';
import { useMessagesStore } from './messages';
import { useUiStore } from './ui';
import { useUnreadStore } from './unread';
import { useWindowsStore } from './windows';

/** An expanded window on a visible, focused page marks its conversation read. */
export const useReadingStore = defineStore('friendChatReading', () => {
  const groups = useGroupsStore();
  const messages = useMessagesStore();
  const ui = useUiStore();
  const unread = useUnreadStore();
  const windows = useWindowsStore();
  const reading = new Set<ConversationKey>();

  function markReadIfSeen(key: ConversationKey): void {
    if (!ui.attentive || !windows.isShown(key) || reading.has(key)) return;
    const groupId = groupIdOf(key);
    // A group's unread state is my read position there, so only the count tells; a former member has none.
    if (groupId) {
      if (unread.forGroup(groupId) > 0 && groups.isMember(groupId)) markGroupRead(key, groupId);
      return;
    }
    const t = messages.threads[key];
    const unseen = unread.forPeer(key) > 0 || !!t?.messages.some((m) => m.fromUserId === key && !m.isRead);
    if (!unseen) return;
    reading.add(key);
    messages.markReadFrom(key, key, new Date().toISOString());
    unread.clearPeer(key);
    // On failure the server's next unread:update (or the reconnect refresh) restores the badge.
    request('chat:read', { peerId: key })
      .catch(() => {})
      .finally(() => reading.delete(key));
  }

  function markGroupRead(key: ConversationKey, groupId: string): void {
    reading.add(key);
    unread.clearGroup(groupId);
    request('chat:read', { groupId })
      .catch(() => {})
      .finally(() => reading.delete(key));
  }

  // Whatever may have made a message visible: the page, the layout, the windows, new messages.
  watch([() => ui.attentive, () => ui.narrow, () => unread.counts, () => windows.windows, () => messages.threads], () => {
    for (const w of windows.windows) markReadIfSeen(w.key);
  });

  function reset(): void {
    reading.clear();
  }

  return { markReadIfSeen, reset };
});
