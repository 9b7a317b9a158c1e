import { afterEach, describe, expect, it } from 'vitest';
import type { ChatWireMessage } from '@shared/events';
import { RENDER_STEP } from '@/friend-chat/composables/useMessageWindow';
import { $, chatWithBob, click } from './helpers/chatWindow';
import { alice, bob, endSession, flush, wire } from './helpers/session';

afterEach(endSession);

const replyTo = (m: ChatWireMessage) => ({ id: m.id, fromUserId: m.fromUserId, kind: m.kind, excerpt: m.content.slice(0, 100), recalled: false });
const quoteOf = (bubble: HTMLElement | null) => bubble?.querySelector<HTMLElement>('[data-testid="reply-quote"]') ?? null;

describe('replying', () => {
  it('Reply quotes the message above the composer, and the send carries replyToId', async () => {
    const lunch = wire(bob, alice, 'Lunch at noon?');
    const s = await chatWithBob([lunch]);
    await click((await s.hover(lunch.id)).querySelector('[data-testid="message-reply"]')!);
    const bar = $('[data-testid="composer-reply-bar"]')!;
    expect(bar.getAttribute('aria-label')).toBe('Replying to Bob');
    expect(bar.textContent).toContain('Bob');
    expect(bar.textContent).toContain('Lunch at noon?');

    await s.type('Sure');
    const [send] = s.socket.emitsOf('chat:send');
    expect(send!.payload).toMatchObject({ to: bob.id, content: 'Sure', replyToId: lunch.id });
    expect($('[data-testid="composer-reply-bar"]')).toBeNull();
    // The sending bubble already shows what it answers.
    const sending = $(`[data-testid="message-bubble"][data-client-id="${send!.payload.clientId}"]`);
    expect(quoteOf(sending)!.textContent).toContain('Bob');
    expect(quoteOf(sending)!.textContent).toContain('Lunch at noon?');

    // The next message is no reply.
    await s.type('See you');
    expect(s.socket.emitsOf('chat:send')[1]!.payload).not.toHaveProperty('replyToId');
  });

  it('the × on the quote bar cancels the reply', async () => {
    const lunch = wire(bob, alice, 'Lunch at noon?');
    const s = await chatWithBob([lunch]);
    await click((await s.hover(lunch.id)).querySelector('[data-testid="message-reply"]')!);
    await click('[data-testid="composer-cancel"]');
    expect($('[data-testid="composer-reply-bar"]')).toBeNull();
    await s.type('Unrelated');
    expect(s.socket.emitsOf('chat:send')[0]!.payload).not.toHaveProperty('replyToId');
  });

  it('a failed reply keeps its replyToId: in the stored outbox and on retry', async () => {
    const lunch = wire(bob, alice, 'Lunch at noon?');
    const s = await chatWithBob([lunch]);
    await click((await s.hover(lunch.id)).querySelector('[data-testid="message-reply"]')!);
    await s.type('Sure');
    const [first] = s.socket.emitsOf('chat:send');
    first!.ack!({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    await flush();
    const outbox = JSON.parse(localStorage.getItem(`friend-chat:${alice.id}:outbox`)!) as { replyTo: { id: string } | null }[];
    expect(outbox.map((m) => m.replyTo?.id)).toEqual([lunch.id]);

    await click('[data-testid="message-retry"]');
    const sends = s.socket.emitsOf('chat:send');
    expect(sends).toHaveLength(2);
    expect(sends[1]!.payload).toEqual(first!.payload);
    expect(sends[1]!.payload).toMatchObject({ replyToId: lunch.id });
  });

  it("shows a reply's quote with the sender's name, and 'recalled' once the original is recalled", async () => {
    const mine = wire(alice, bob, 'Who is coming on Saturday?');
    const answer = wire(bob, alice, 'Me!', { replyTo: replyTo(mine) });
    const s = await chatWithBob([mine, answer]);
    expect(quoteOf(s.bubble(answer.id))!.textContent).toContain('You');
    expect(quoteOf(s.bubble(answer.id))!.textContent).toContain('Who is coming on Saturday?');

    s.socket.serverEmit('chat:deleted', { messageId: mine.id, peerId: bob.id, deletedAt: new Date().toISOString() });
    await flush();
    expect(quoteOf(s.bubble(answer.id))!.textContent).toContain('Message recalled');
    expect(quoteOf(s.bubble(answer.id))!.textContent).not.toContain('Saturday');
  });

  it('clicking the quote jumps to the original, rendering it when the window shows only newer ones', async () => {
    const older = Array.from({ length: RENDER_STEP + 20 }, (_, i) => wire(bob, alice, `message ${i}`));
    const answer = wire(alice, bob, 'About that first one', { replyTo: replyTo(older[0]!) });
    const s = await chatWithBob([...older, answer]);
    expect(s.bubble(older[0]!.id)).toBeNull();

    await click(quoteOf(s.bubble(answer.id))!);
    expect(s.bubble(older[0]!.id)).not.toBeNull();
    expect(s.row(older[0]!.id)!.closest('[data-highlighted]')).not.toBeNull();
  });

  it('clicking the quote loads older pages until the original is there', async () => {
    const original = wire(bob, alice, 'Long ago');
    const middle = wire(bob, alice, 'Meanwhile');
    const answer = wire(alice, bob, 'Re: long ago', { replyTo: replyTo(original) });
    const s = await chatWithBob([], {
      'GET /api/messages/:peerId': ({ query }) =>
        query.get('before') === 'page-2'
          ? { messages: [original], nextCursor: null }
          : { messages: [middle, answer], nextCursor: 'page-2' },
    });
    expect(s.bubble(original.id)).toBeNull();
    await click(quoteOf(s.bubble(answer.id))!);
    expect(s.http.calls.some((c) => c.url.includes('before=page-2'))).toBe(true);
    expect(s.texts()).toEqual(['Long ago', 'Meanwhile', 'Re: long ago']);
    expect(s.row(original.id)!.closest('[data-highlighted]')).not.toBeNull();
  });
});
