import { defineStore } from 'pinia';
import { ref, watch } from 'vue';
import { ApiError } from '../api/http';
import { connectionState, request, SocketRequestError } from '../socket/client';
import { groupIdOf, type ConversationKey } from '../utils/conversation';
import { isThreadMessage } from '../utils/messageKinds';
import { load, save } from '../utils/storage';
import type { AttachmentKind, WireAttachment, WireLocation, WireMessage, WireReplyTo } from '../wire';
import { useChatStore } from './chat';
import { useMessagesStore } from './messages';
import { useSessionStore } from './session';
import type { ChatMessage } from './thread';
import { useUploadsStore } from './uploads';
import { useWindowsStore } from './windows';

export const MAX_CONTENT = 2000;

/**
 * What the user wrote and the server has not confirmed: drafts per conversation and optimistic
 * sends (acked, retried with the same clientId), kept in localStorage so nothing typed is lost.
 * A message with a file uploads it first (uploads store; the file itself waits in IndexedDB),
 * then sends the stored upload's id.
 */
export const useOutboxStore = defineStore('friendChatOutbox', () => {
  const session = useSessionStore();
  const messages = useMessagesStore();
  const chat = useChatStore();
  const windows = useWindowsStore();
  const uploads = useUploadsStore();

  // Unsent text per conversation: survives minimize, close, eviction and page navigation.
  const drafts = ref<Record<string, string>>({});
  const setDraft = (key: ConversationKey, text: string) => (drafts.value = { ...drafts.value, [key]: text });

  /**
   * An optimistic message at the end of its conversation, on its way to the server. A reply keeps
   * what it answers (`replyTo`) with it, so a retry or a reload sends it as a reply too.
   */
  function post(
    key: ConversationKey,
    fields: Pick<ChatMessage, 'content' | 'kind' | 'attachment' | 'location'> & { replyTo?: WireReplyTo | null },
    file?: { file: File; previewUrl: string | null },
  ): boolean {
    const me = session.userId;
    if (!me || fields.content.length > MAX_CONTENT) return false;
    const clientId = crypto.randomUUID();
    const groupId = groupIdOf(key);
    const local: ChatMessage = {
      id: '',
      key: clientId,
      fromUserId: me,
      ...(groupId ? { toUserId: null, groupId } : { toUserId: key, groupId: null }),
      messageType: 'CHAT',
      metadata: {},
      clientId,
      isRead: false,
      readAt: null,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      editedAt: null,
      deletedAt: null,
      reactions: [],
      pending: 'sending',
      ...fields,
      replyTo: fields.replyTo ?? null,
    };
    if (file) uploads.hold(clientId, file.file, file.previewUrl);
    messages.updateThread(key, (t) => ({ ...t, messages: [...t.messages, local] }), true);
    windows.touch(key);
    void deliver(local);
    return true;
  }

  function send(key: ConversationKey, text: string, replyTo?: WireReplyTo | null): boolean {
    const content = text.trim();
    return !!content && post(key, { content, kind: 'text', attachment: null, location: null, replyTo });
  }

  /** A file, an image or a recording, with an optional caption: uploaded first, then sent. */
  function sendFile(
    key: ConversationKey,
    file: File,
    options: { kind: AttachmentKind; caption?: string; durationMs?: number; previewUrl?: string | null; replyTo?: WireReplyTo | null },
  ): boolean {
    const { kind, durationMs, replyTo } = options;
    const attachment: WireAttachment = { id: '', kind, name: file.name, mime: file.type, size: file.size, url: '', ...(durationMs ? { durationMs } : {}) };
    return post(key, { content: options.caption?.trim() ?? '', kind, attachment, location: null, replyTo }, { file, previewUrl: options.previewUrl ?? null });
  }

  function sendLocation(key: ConversationKey, location: WireLocation): boolean {
    return post(key, { content: '', kind: 'location', attachment: null, location });
  }

  async function deliver(m: ChatMessage): Promise<void> {
    const clientId = m.clientId!;
    const key = messages.keyOf(m);
    setPending(key, clientId, 'sending');
    const confirm = (message: WireMessage) => {
      if (!isThreadMessage(message)) return;
      chat.ingest([message]);
      uploads.release(clientId);
      saveOutbox();
    };
    let attachmentId = m.attachment?.id;
    try {
      if (m.attachment && !attachmentId) {
        // Uploaded once: a retry or a reload sends the stored upload and does not upload again.
        const stored = await uploads.upload(clientId);
        attachmentId = stored.id;
        patch(key, clientId, { attachment: stored });
      }
      const to = m.groupId ? { groupId: m.groupId } : { to: m.toUserId! };
      const rich = {
        ...(attachmentId ? { attachmentId } : {}),
        ...(m.location ? { location: m.location } : {}),
        ...(m.replyTo ? { replyToId: m.replyTo.id } : {}),
      };
      const { message } = await request('chat:send', { ...to, content: m.content, clientId, ...rich }, { onLate: (a) => confirm(a.message) });
      confirm(message);
    } catch (err) {
      const code = err instanceof SocketRequestError || err instanceof ApiError ? err.code : 'INTERNAL';
      setPending(key, clientId, 'failed', code);
    }
  }

  async function retry(key: ConversationKey, clientId: string): Promise<void> {
    const m = unconfirmed(key, clientId, 'failed');
    if (!m) return;
    // The stored upload is gone (unsent uploads are removed after a day): upload the file again.
    if (m.error === 'NOT_FOUND' && m.attachment?.id && (await uploads.recover(clientId, m.attachment.kind))) {
      patch(key, clientId, { attachment: { ...m.attachment, id: '' } });
    }
    const again = unconfirmed(key, clientId, 'failed');
    if (again) await deliver(again);
  }

  /** Throws away a message that was not sent (and the file it carried). */
  function discard(key: ConversationKey, clientId: string): void {
    if (!unconfirmed(key, clientId, 'failed')) return;
    messages.updateThread(key, (t) => ({ ...t, messages: t.messages.filter((x) => !(x.clientId === clientId && x.pending)) }));
    uploads.release(clientId);
    saveOutbox();
  }

  /**
   * A text message that will not go as it is (the content filter refused it): its text back in
   * the input, before whatever is typed there, to change and send again.
   */
  function rewrite(key: ConversationKey, clientId: string): void {
    const m = unconfirmed(key, clientId, 'failed');
    if (!m) return;
    const typed = drafts.value[key] ?? '';
    setDraft(key, typed ? `${m.content}\n${typed}` : m.content);
    discard(key, clientId);
  }

  const unconfirmed = (key: ConversationKey, clientId: string, state: 'sending' | 'failed') =>
    messages.threads[key]?.messages.find((x) => x.clientId === clientId && x.pending === state);

  function patch(key: ConversationKey, clientId: string, fields: Partial<ChatMessage>): void {
    messages.updateThread(key, (t) => ({
      ...t,
      messages: t.messages.map((x): ChatMessage => (x.clientId === clientId && x.pending ? ({ ...x, ...fields } as ChatMessage) : x)),
    }));
    saveOutbox();
  }

  function setPending(key: ConversationKey, clientId: string, state: 'sending' | 'failed', error?: string): void {
    // Only while still unconfirmed: a sync may have confirmed it before the ack timed out.
    patch(key, clientId, { pending: state, error });
  }

  // A message that failed only because this tab's connection was closed (too many tabs, a
  // refused token; code CLOSED) goes again, with the same clientId, once the tab is connected.
  watch(connectionState, (state, before) => {
    if (state !== 'connected' || before === 'connected') return;
    for (const t of Object.values(messages.threads)) {
      for (const m of t.messages) if (m.pending === 'failed' && m.error === 'CLOSED') void retry(messages.keyOf(m), m.clientId!);
    }
  });

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
    for (const m of outbox) void resume(m);
  }

  async function resume(m: ChatMessage): Promise<void> {
    // A file not uploaded yet comes back from the browser's storage, if it kept it.
    if (m.attachment && !m.attachment.id && !(await uploads.recover(m.clientId!, m.attachment.kind))) {
      return setPending(messages.keyOf(m), m.clientId!, 'failed', 'FILE_GONE');
    }
    if (m.pending === 'sending') await deliver(m);
  }

  function reset(): void {
    owner = null;
    drafts.value = {};
  }

  return { drafts, setDraft, send, sendFile, sendLocation, retry, discard, rewrite, restore, reset };
});
