// Alice, connected, with the chat window to bob open on a given history: the setting of the
// message lifecycle tests (delivered, edit, reply, reactions, sync).
import type { ChatWireMessage } from '@shared/events';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import type { Handler } from './fakeHttp';
import { alice, bob, flush, startSession, wire } from './session';

export const $ = <E extends Element = HTMLElement>(selector: string) => document.body.querySelector<E>(selector);
export const $$ = <E extends Element = HTMLElement>(selector: string) => [...document.body.querySelectorAll<E>(selector)];

export async function click(selector: string | Element): Promise<void> {
  const el = typeof selector === 'string' ? $(selector) : selector;
  if (!el) throw new Error(`nothing matches ${String(selector)}`);
  (el as HTMLElement).click();
  await flush();
}

/** `history`: bob's conversation as GET /api/messages/:peerId answers it (one page unless `routes` say otherwise). */
export async function chatWithBob(history: ChatWireMessage[] = [], routes: Record<string, Handler> = {}) {
  const s = await startSession({ 'GET /api/messages/:peerId': () => ({ messages: history, nextCursor: null }), ...routes });
  s.socket.serverConnect();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const input = () => wrapper.get<HTMLTextAreaElement>('[data-testid="chat-input"]');
  const bubble = (id: string) => $(`[data-testid="message-bubble"][data-message-id="${id}"]`);
  /** The row (bubble, its actions, its reactions) of a message. */
  const row = (id: string) => bubble(id)?.closest<HTMLElement>('.bubble-row') ?? null;
  /** The row of a message after a hover, which makes its action buttons (reply, react, edit). */
  async function hover(id: string): Promise<HTMLElement> {
    bubble(id)!.dispatchEvent(new MouseEvent('mouseenter'));
    await flush();
    return row(id)!;
  }
  /** Each bubble's own text (its body), in order. */
  const texts = () => $$('[data-testid="message-bubble"] .bubble-text').map((e) => e.textContent);
  /** Every bubble's message id, in order. */
  const ids = () => $$('[data-testid="message-bubble"]').map((b) => b.dataset.messageId);
  async function type(text: string, key: Partial<KeyboardEventInit> = { key: 'Enter' }) {
    await input().setValue(text);
    await input().trigger('keydown', key);
    await flush();
  }
  /** What the server stores for alice's send of `content`. */
  const stored = (payload: { content: string; clientId: string }, extra: Partial<ChatWireMessage> = {}) =>
    wire(alice, bob, payload.content, { clientId: payload.clientId, ...extra });
  return { ...s, wrapper, input, bubble, row, hover, texts, ids, type, stored };
}
