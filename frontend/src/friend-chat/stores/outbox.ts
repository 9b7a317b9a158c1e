import { defineStore } from 'pinia';
import { ref } from 'vue';
import { request, SocketRequestError } from '../socket/client';
import { groupIdOf, type ConversationKey } from '../utils/conversation';
import { isThreadMessage } from '../utils/messageKinds';
import { load, save } from '../utils/storage';
import type { WireMessage } from '../wire';
import { useChatStore } from './chat';
import { useMessagesStore } from './messages';
import { useSessionStore } from './session';
import type { ChatMessage } from './thread';
import { useWindowsStore } from './windows';

export const MAX_CONTENT = 2000;

/**
 * What the user wrote and the server has not confirmed: drafts per conversation and optimistic
 * sends (acked, retried with the same clientId), kept in localStorage so nothing typed is lost.
 */
export const useOutboxStore = defineStore('friendChatOutbox', () => {
  const session = useSessionStore();
  const messages = useMessagesStore();
  const chat = useChatStore();
  const windows = useWindowsStore();

  // Unsent text per conversation: survives minimize, close, eviction and page navigation.
  const drafts = ref<Record<string, string>>({});
  const setDraft = (key: ConversationKey, text: string) => (drafts.value = { ...drafts.value, [key]: text });

  function send(key: ConversationKey, text: string): boolean {
    const content = text.trim();
    const me = session.userId;
    if (!content || content.length > MAX_CONTENT || !me) return false;
    const clientId = crypto.randomUUID();
    const groupId = groupIdOf(key);
    const local: ChatMessage = {
      id: '',
      key: clientId,
      fromUserId: me,
      ...(groupId ? { toUserId: null, groupId } : { toUserId: key, groupId: null }),
      messageType: 'CHAT',
      content,
      metadata: {},
      clientId,
      isRead: false,
      readAt: null,
      createdAt: new Date().toISOString(),
      kind: 'text',
      attachment: null,
      location: null,
      pending: 'sending',
    };
    messages.updateThread(key, (t) => ({ ...t, messages: [...t.messages, local] }), true);
    windows.touch(key);
    void deliver(local);
    return true;
  }

  async function deliver(m: ChatMessage): Promise<void> {
    const clientId = m.clientId!;
    const key = messages.keyOf(m);
    setPending(key, clientId, 'sending');
    const confirm = (message: WireMessage) => {
      if (!isThreadMessage(message)) return;
      chat.ingest([message]);
      saveOutbox();
    };
    const to = m.groupId ? { groupId: m.groupId } : { to: m.toUserId! };
    try {
      const { message } = await request('chat:send', { ...to, content: m.content, clientId }, { onLate: (a) => confirm(a.message) });
      confirm(message);
    } catch (err) {
      setPending(key, clientId, 'failed', err instanceof SocketRequestError ? err.code : 'INTERNAL');
    }
  }

  function retry(key: ConversationKey, clientId: string): void {
    const m = messages.threads[key]?.messages.find((x) => x.clientId === clientId && x.pending === 'failed');
    if (m) void deliver(m);
  }

  function setPending(key: ConversationKey, clientId: string, state: 'sending' | 'failed', error?: string): void {
    messages.updateThread(key, (t) => ({
      ...t,
      // Only while still unconfirmed: a sync may have confirmed it before the ack timed out.
      messages: t.messages.map((x) => (x.clientId === clientId && x.pending ? { ...x, pending: state, error } : x)),
    }));
    saveOutbox();
  }

  let owner: string | null = null;
  function saveOutbox(): void {
    if (!owner) return;
    const pending = Object.values(messages.threads).flatMap((t) => t.messages.filter((m) => m.pending));
    save(`${owner}:outbox`, pending.length ? pending : null);
  }

  /** Bring back this user's unsent messages after a reload or a login, and send them again. */
  function restore(userId: string): void {
    owner = userId;
    const outbox = load<ChatMessage[]>(`${userId}:outbox`, []);
    for (const m of outbox) messages.updateThread(messages.keyOf(m), (t) => ({ ...t, messages: [...t.messages, m] }), true);
    // They were on their way when the page went away; the server dedupes by clientId.
    for (const m of outbox) if (m.pending === 'sending') void deliver(m);
  }

  function reset(): void {
    owner = null;
    drafts.value = {};
  }

  return { drafts, setDraft, send, retry, restore, reset };
});
