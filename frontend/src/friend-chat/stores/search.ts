import { defineStore } from 'pinia';
import { ref } from 'vue';
import { conversationOf, groupKey, type ConversationKey } from '../utils/conversation';
import type { ThreadWireMessage } from '../utils/messageKinds';
import { useChatStore } from './chat';
import { useSessionStore } from './session';

/**
 * Message search across windows: which windows show their search box, and the message a window
 * is asked to show (a clicked result). The window loads history back to it and scrolls it into
 * view (composables/useJumpToMessage.ts).
 */
export const useSearchStore = defineStore('friendChatSearch', () => {
  const chat = useChatStore();
  const session = useSessionStore();
  /** Windows (by conversation key) whose search box is open. */
  const openIn = ref<Record<ConversationKey, boolean>>({});
  /** The message a window should show; `nonce` tells two clicks on one result apart. */
  const target = ref<{ key: ConversationKey; messageId: string; nonce: number } | null>(null);
  let nonce = 0;

  function toggle(key: ConversationKey, on = !openIn.value[key]): void {
    openIn.value = { ...openIn.value, [key]: on };
  }

  /** Opens the message's conversation (friend or group) and asks its window to show the message. */
  async function openAt(m: ThreadWireMessage): Promise<void> {
    if (m.groupId) chat.openGroup(await chat.groupById(m.groupId));
    else chat.open(chat.userById(conversationOf(m, session.userId)));
    target.value = { key: m.groupId ? groupKey(m.groupId) : conversationOf(m, session.userId), messageId: m.id, nonce: ++nonce };
  }

  /** The window has handled `nonce` (shown the message, or given up). */
  function done(n: number): void {
    if (target.value?.nonce === n) target.value = null;
  }

  function reset(): void {
    openIn.value = {};
    target.value = null;
  }

  return { openIn, target, toggle, openAt, done, reset };
});
