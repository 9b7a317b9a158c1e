import { defineStore } from 'pinia';
import { ref } from 'vue';
import { chatApi } from '../api/endpoints';
import type { ChatWireMessage, ConversationEntry } from '../wire';
import { useMessagesStore } from './messages';
import { useWindowsStore } from './windows';

/** Recent conversations (the messages menu), kept current by the messages that pass by. */
export const useConversationsStore = defineStore('friendChatConversations', () => {
  const messages = useMessagesStore();
  const windows = useWindowsStore();
  const list = ref<ConversationEntry[]>([]);
  const loaded = ref(false);

  async function load(): Promise<void> {
    // Group entries (`group`) are for the group UI.
    list.value = (await chatApi.conversations()).conversations.filter((c): c is ConversationEntry => 'peer' in c);
    loaded.value = true;
  }

  function note(m: ChatWireMessage): void {
    if (!loaded.value) return;
    const peerId = messages.peerOf(m);
    const existing = list.value.find((c) => c.peer.id === peerId);
    if (existing && existing.lastMessage.createdAt > m.createdAt) return;
    const user = existing?.peer ?? windows.peer(peerId);
    if (!user) {
      // Someone not known yet: the next open of the menu reloads the list.
      loaded.value = false;
      return;
    }
    const entry: ConversationEntry = { peer: user, lastMessage: m, unread: existing?.unread ?? 0, updatedAt: m.createdAt, muted: existing?.muted ?? false };
    list.value = [entry, ...list.value.filter((c) => c !== existing)];
  }

  /** A recalled message was some conversation's latest: its preview must change. */
  function forget(messageId: string): void {
    if (list.value.some((c) => c.lastMessage.id === messageId)) void load().catch(() => {});
  }

  const peer = (peerId: string) => list.value.find((c) => c.peer.id === peerId)?.peer;

  function reset(): void {
    list.value = [];
    loaded.value = false;
  }

  return { list, loaded, load, note, forget, peer, reset };
});
