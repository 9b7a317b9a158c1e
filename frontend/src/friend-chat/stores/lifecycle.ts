import { defineStore } from 'pinia';
import { request } from '../socket/client';
import { isThreadMessage } from '../utils/messageKinds';
import type { ServerToClientEvents, WireMessage } from '../wire';
import { useConversationsStore } from './conversations';
import { useMessagesStore } from './messages';
import { useSessionStore } from './session';
import { markDelivered, withReaction, type ChatMessage } from './thread';

/**
 * The server's EDIT_WINDOW_SECONDS default: past it the Edit action is hidden. The server decides
 * (it may be configured otherwise) and answers EDIT_WINDOW_CLOSED.
 */
export const EDIT_WINDOW_MS = 900_000;

/** A fixed, small set: no emoji library to load. */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '😮', '😢', '🙏', '🎉', '🔥', '👏', '👀'] as const;

type Payload<E extends keyof ServerToClientEvents> = Parameters<ServerToClientEvents[E]>[0];

/** Own text messages, confirmed and recent enough, may be edited. */
export const canEdit = (m: ChatMessage, me: string, nowMs: number) =>
  m.fromUserId === me && m.messageType === 'CHAT' && m.kind === 'text' && !!m.id && !m.pending && nowMs - Date.parse(m.createdAt) < EDIT_WINDOW_MS;

/** What happens to a message after it was sent: delivered, edited, reacted to. */
export const useLifecycleStore = defineStore('friendChatLifecycle', () => {
  const conversations = useConversationsStore();
  const messages = useMessagesStore();
  const session = useSessionStore();

  /** A message in its latest state (`chat:edited`, an edit's ack): replaces the loaded copy, never added. */
  function applyEdited(message: WireMessage): void {
    if (!isThreadMessage(message)) return;
    // An edit leaves reactions alone; the loaded ones are from my point of view (`mine`).
    messages.patchMessage(message.id, (m) => ({ ...m, ...message, reactions: m.reactions, key: m.key }));
    // The conversations menu previews it if it is the latest.
    if (conversations.list.some((c) => c.lastMessage.id === message.id)) conversations.note(message);
  }

  /** Throws the server's refusal (e.g. EDIT_WINDOW_CLOSED); the message is then as it was. */
  async function edit(messageId: string, content: string): Promise<void> {
    const before = messages.find(messageId);
    if (!before || before.content === content) return;
    // Optimistic: the window shows the new text at once.
    messages.patchMessage(messageId, (m) => ({ ...m, content, editedAt: new Date().toISOString() }));
    try {
      const answer = await request('chat:edit', { messageId, content });
      if (answer.message) applyEdited(answer.message);
    } catch (err) {
      messages.patchMessage(messageId, (m) => ({ ...m, content: before.content, editedAt: before.editedAt }));
      throw err;
    }
  }

  const setReaction = (messageId: string, emoji: string, on: boolean, mine: boolean) =>
    messages.patchMessage(messageId, (m) => ({ ...m, reactions: withReaction(m.reactions, emoji, on, mine) }));

  /** Toggle my reaction: shown at once, taken back if the server refuses. */
  async function react(messageId: string, emoji: string, on: boolean): Promise<void> {
    setReaction(messageId, emoji, on, true);
    try {
      await request('chat:react', { messageId, emoji, on });
    } catch {
      setReaction(messageId, emoji, !on, true);
    }
  }

  function applyReaction({ messageId, emoji, userId, on }: Payload<'chat:reaction'>): void {
    setReaction(messageId, emoji, on, userId === session.userId);
  }

  /** `by` received these messages: mine to them, or (by me) theirs that another tab of mine acked. */
  function applyDelivered({ messageIds, deliveredAt }: Payload<'chat:delivered'>): void {
    const ids = new Set(messageIds);
    for (const [key, t] of Object.entries(messages.threads)) {
      if (t.messages.some((m) => ids.has(m.id))) messages.updateThread(key, (cur) => ({ ...cur, messages: markDelivered(cur.messages, ids, deliveredAt) }));
    }
  }

  return { applyEdited, edit, react, applyReaction, applyDelivered };
});
