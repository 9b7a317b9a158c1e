import { defineStore } from 'pinia';
import { ref } from 'vue';
import { chatApi } from '../api/endpoints';
import type { ThreadWireMessage } from '../utils/messageKinds';
import type { ConversationEntry, GroupConversationEntry, GroupWireMessage } from '../wire';
import { useGroupsStore } from './groups';
import { useMessagesStore } from './messages';
import { useWindowsStore } from './windows';

export type ConversationItem = ConversationEntry | GroupConversationEntry;

/** Recent conversations with friends and groups (the messages menu), kept current by the messages that pass by. */
export const useConversationsStore = defineStore('friendChatConversations', () => {
  const groups = useGroupsStore();
  const messages = useMessagesStore();
  const windows = useWindowsStore();
  const list = ref<ConversationItem[]>([]);
  const loaded = ref(false);

  async function load(): Promise<void> {
    const { conversations } = await chatApi.conversations();
    groups.remember(conversations.flatMap((c) => ('group' in c ? [c.group] : [])));
    list.value = conversations;
    loaded.value = true;
  }

  const keyOfItem = (c: ConversationItem) => ('group' in c ? `g:${c.group.id}` : `u:${c.peer.id}`);

  function note(m: ThreadWireMessage): void {
    if (!loaded.value) return;
    const key = m.groupId ? `g:${m.groupId}` : `u:${messages.keyOf(m)}`;
    const existing = list.value.find((c) => keyOfItem(c) === key);
    if (existing && existing.lastMessage.createdAt > m.createdAt) return;
    const entry = m.groupId ? groupEntry(m as GroupWireMessage, existing) : peerEntry(m, existing);
    // Someone or something not known yet: the next open of the menu reloads the list.
    if (!entry) loaded.value = false;
    else list.value = [entry, ...list.value.filter((c) => c !== existing)];
  }

  function peerEntry(m: ThreadWireMessage, existing: ConversationItem | undefined): ConversationEntry | null {
    const peerId = messages.keyOf(m);
    const user = (existing && 'peer' in existing ? existing.peer : undefined) ?? windows.peer(peerId);
    const muted = existing?.muted ?? false;
    return user ? { peer: user, lastMessage: m as ConversationEntry['lastMessage'], unread: existing?.unread ?? 0, updatedAt: m.createdAt, muted } : null;
  }

  function groupEntry(m: GroupWireMessage, existing: ConversationItem | undefined): GroupConversationEntry | null {
    const group = groups.byId(m.groupId);
    return group ? { group, lastMessage: m, unread: existing?.unread ?? 0, updatedAt: m.createdAt, muted: existing?.muted ?? false } : null;
  }

  /** A recalled message was some conversation's latest: its preview must change. */
  function forget(messageId: string): void {
    if (list.value.some((c) => c.lastMessage.id === messageId)) void load().catch(() => {});
  }

  const peer = (peerId: string) => list.value.find((c): c is ConversationEntry => 'peer' in c && c.peer.id === peerId)?.peer;

  function reset(): void {
    list.value = [];
    loaded.value = false;
  }

  return { list, loaded, load, note, forget, peer, reset };
});
