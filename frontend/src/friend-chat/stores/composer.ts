import { defineStore } from 'pinia';
import { ref } from 'vue';
import { SocketRequestError } from '../socket/client';
import type { ConversationKey } from '../utils/conversation';
import type { WireReplyTo } from '../wire';
import { useLifecycleStore } from './lifecycle';
import { MAX_CONTENT, useOutboxStore } from './outbox';
import type { ChatMessage } from './thread';

/** What a reply quotes of the message it answers (the server sends the same shape back). */
export const EXCERPT_MAX = 100;
// As the server makes it: up to 100 characters (code points) of the content, else the file name, else the place's label.
export const replyRefOf = (m: ChatMessage): WireReplyTo => ({
  id: m.id,
  fromUserId: m.fromUserId,
  kind: m.kind,
  excerpt: [...(m.content || m.attachment?.name || m.location?.label || '')].slice(0, EXCERPT_MAX).join(''),
  recalled: false,
});

/**
 * What a window's composer is doing besides writing a new message: answering one (`reply`) or
 * editing one of mine (`edit`, with the draft it put aside, given back when the edit ends).
 */
export type ComposerMode = { kind: 'reply'; replyTo: WireReplyTo } | { kind: 'edit'; messageId: string; draft: string };

export const useComposerStore = defineStore('friendChatComposer', () => {
  const lifecycle = useLifecycleStore();
  const outbox = useOutboxStore();
  const modes = ref<Record<ConversationKey, ComposerMode>>({});
  /** Why the last edit failed, per window: an error code (chat.editErrors.*). */
  const errors = ref<Record<ConversationKey, string>>({});

  function set(key: ConversationKey, mode: ComposerMode | null): void {
    const next = { ...modes.value };
    if (mode) next[key] = mode;
    else delete next[key];
    modes.value = next;
    errors.value = { ...errors.value, [key]: '' };
  }

  function reply(key: ConversationKey, message: ChatMessage): void {
    cancel(key);
    set(key, { kind: 'reply', replyTo: replyRefOf(message) });
  }

  function startEdit(key: ConversationKey, message: ChatMessage): void {
    cancel(key);
    set(key, { kind: 'edit', messageId: message.id, draft: outbox.drafts[key] ?? '' });
    outbox.setDraft(key, message.content);
  }

  /** Leaves reply or edit mode; an edit gives the draft it put aside back. */
  function cancel(key: ConversationKey): void {
    const mode = modes.value[key];
    if (mode?.kind === 'edit') outbox.setDraft(key, mode.draft);
    if (mode) set(key, null);
  }

  /** Saves the edit; on a refusal the composer stays in edit mode and says why. */
  async function saveEdit(key: ConversationKey, text: string): Promise<void> {
    const mode = modes.value[key];
    const content = text.trim();
    if (mode?.kind !== 'edit' || !content || content.length > MAX_CONTENT) return;
    cancel(key);
    try {
      await lifecycle.edit(mode.messageId, content);
    } catch (err) {
      // Back to editing what the user wrote, with the reason.
      set(key, mode);
      outbox.setDraft(key, content);
      errors.value = { ...errors.value, [key]: err instanceof SocketRequestError ? err.code : 'other' };
    }
  }

  function reset(): void {
    modes.value = {};
    errors.value = {};
  }

  return { modes, errors, reply, startEdit, cancel, saveEdit, reset };
});
