import { afterEach, describe, expect, it } from 'vitest';
import { $, chatWithBob, click } from './helpers/chatWindow';
import { alice, bob, endSession, flush, wire } from './helpers/session';

afterEach(endSession);

/** The chips under a message: emoji, count, mine. */
function chips(row: HTMLElement | null): [string, string, boolean][] {
  return [...(row?.querySelectorAll<HTMLElement>('[data-testid="reaction-chip"]') ?? [])].map((c) => [
    c.dataset.emoji!,
    c.querySelector('.count')!.textContent!,
    c.classList.contains('mine'),
  ]);
}

describe('reactions', () => {
  it('picking an emoji reacts (chat:react on) and shows a chip of mine; clicking the chip takes it back', async () => {
    const m = wire(bob, alice, 'Passed my exam!');
    const s = await chatWithBob([m]);
    await click((await s.hover(m.id)).querySelector('[data-testid="message-react"]')!);
    const options = [...document.body.querySelectorAll<HTMLElement>('[data-testid="emoji-option"]')];
    expect(options.length).toBeGreaterThanOrEqual(8);
    await click($('[data-testid="emoji-option"][data-emoji="🎉"]')!);

    expect(s.socket.emitsOf('chat:react').map((e) => e.payload)).toEqual([{ messageId: m.id, emoji: '🎉', on: true }]);
    expect(chips(s.row(m.id))).toEqual([['🎉', '1', true]]);
    // The server's echo of my own reaction changes nothing.
    s.socket.serverEmit('chat:reaction', { messageId: m.id, emoji: '🎉', userId: alice.id, on: true });
    await flush();
    expect(chips(s.row(m.id))).toEqual([['🎉', '1', true]]);

    await click(s.row(m.id)!.querySelector('[data-testid="reaction-chip"]')!);
    expect(s.socket.emitsOf('chat:react')[1]!.payload).toEqual({ messageId: m.id, emoji: '🎉', on: false });
    expect(chips(s.row(m.id))).toEqual([]);
  });

  it("counts others' reactions live, mine only when the userId is me", async () => {
    const m = wire(alice, bob, 'New haircut');
    const s = await chatWithBob([m]);
    s.socket.serverEmit('chat:reaction', { messageId: m.id, emoji: '❤️', userId: bob.id, on: true });
    await flush();
    expect(chips(s.row(m.id))).toEqual([['❤️', '1', false]]);

    // My other tab reacted the same.
    s.socket.serverEmit('chat:reaction', { messageId: m.id, emoji: '❤️', userId: alice.id, on: true });
    await flush();
    expect(chips(s.row(m.id))).toEqual([['❤️', '2', true]]);

    // Clicking the chip takes mine back; bob's stays.
    await click(s.row(m.id)!.querySelector('[data-testid="reaction-chip"]')!);
    expect(chips(s.row(m.id))).toEqual([['❤️', '1', false]]);
    s.socket.serverEmit('chat:reaction', { messageId: m.id, emoji: '❤️', userId: bob.id, on: false });
    await flush();
    expect(chips(s.row(m.id))).toEqual([]);
  });

  it('shows the reactions a message arrives with, and adds to a chip another person started', async () => {
    const m = wire(bob, alice, 'Pizza tonight?', { reactions: [{ emoji: '👍', count: 2, mine: false }] });
    const s = await chatWithBob([m]);
    expect(chips(s.row(m.id))).toEqual([['👍', '2', false]]);
    await click(s.row(m.id)!.querySelector('[data-testid="reaction-chip"]')!);
    expect(s.socket.emitsOf('chat:react')[0]!.payload).toEqual({ messageId: m.id, emoji: '👍', on: true });
    expect(chips(s.row(m.id))).toEqual([['👍', '3', true]]);
  });

  it('a refused reaction is taken back', async () => {
    const m = wire(bob, alice, 'hello');
    const s = await chatWithBob([m]);
    s.socket.respond('chat:react', () => ({ ok: false, error: { code: 'VALIDATION', message: 'too many emoji' } }));
    await click((await s.hover(m.id)).querySelector('[data-testid="message-react"]')!);
    await click($('[data-testid="emoji-option"][data-emoji="👍"]')!);
    expect(s.socket.emitsOf('chat:react')).toHaveLength(1);
    expect(chips(s.row(m.id))).toEqual([]);
  });
});
