import { afterEach, describe, expect, it, vi } from 'vitest';
import { $, chatWithBob, click } from './helpers/chatWindow';
import { alice, bob, endSession, flush, wire } from './helpers/session';

afterEach(endSession);

const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

describe('editing a message', () => {
  it('Edit puts my text in the composer; Enter saves it with chat:edit and the bubble says "edited"', async () => {
    const mine = wire(alice, bob, 'See you at 7', { createdAt: ago(2) });
    const s = await chatWithBob([mine]);
    await s.input().setValue('half-written draft');
    await click((await s.hover(mine.id)).querySelector('[data-testid="message-edit"]')!);

    expect($('[data-testid="composer-edit-bar"]')).not.toBeNull();
    expect(s.input().element.value).toBe('See you at 7');
    await s.type('See you at 8');

    const [edit] = s.socket.emitsOf('chat:edit');
    expect(edit!.payload).toEqual({ messageId: mine.id, content: 'See you at 8' });
    // Shown at once, before the server answers.
    expect(s.texts()).toEqual(['See you at 8']);
    expect(s.bubble(mine.id)!.querySelector('[data-testid="message-edited"]')!.textContent).toBe('edited');
    const editedAt = new Date().toISOString();
    edit!.ack!({ ok: true, message: { ...mine, content: 'See you at 8', editedAt } });
    await flush();
    expect(s.texts()).toEqual(['See you at 8']);
    // Edit mode is over and the draft put aside is back; nothing was sent as a new message.
    expect($('[data-testid="composer-edit-bar"]')).toBeNull();
    expect(s.input().element.value).toBe('half-written draft');
    expect(s.socket.emitsOf('chat:send')).toHaveLength(0);
  });

  it('Esc leaves edit mode without saving', async () => {
    const mine = wire(alice, bob, 'typo heer', { createdAt: ago(1) });
    const s = await chatWithBob([mine]);
    await click((await s.hover(mine.id)).querySelector('[data-testid="message-edit"]')!);
    await s.input().setValue('typo here');
    await s.input().trigger('keydown', { key: 'Escape' });
    await flush();
    expect($('[data-testid="composer-edit-bar"]')).toBeNull();
    expect(s.input().element.value).toBe('');
    expect(s.socket.emitsOf('chat:edit')).toHaveLength(0);
    expect(s.texts()).toEqual(['typo heer']);
  });

  it('offers Edit only on my own text messages younger than 15 minutes', async () => {
    const recent = wire(alice, bob, 'recent', { createdAt: ago(14) });
    const old = wire(alice, bob, 'old', { createdAt: ago(16) });
    const theirs = wire(bob, alice, 'theirs', { createdAt: ago(1) });
    const s = await chatWithBob([old, recent, theirs]);
    const editable = async (id: string) => (await s.hover(id)).querySelector('[data-testid="message-edit"]') !== null;
    expect([await editable(recent.id), await editable(old.id), await editable(theirs.id)]).toEqual([true, false, false]);
    // Reply and React are there on every message.
    expect((await s.hover(old.id)).querySelector('[data-testid="message-reply"]')).not.toBeNull();
  });

  it('a refused edit (EDIT_WINDOW_CLOSED) puts the text back and says why, still editing', async () => {
    const mine = wire(alice, bob, 'original', { createdAt: ago(14) });
    const s = await chatWithBob([mine]);
    await click((await s.hover(mine.id)).querySelector('[data-testid="message-edit"]')!);
    await s.type('changed too late');
    s.socket.emitsOf('chat:edit')[0]!.ack!({ ok: false, error: { code: 'EDIT_WINDOW_CLOSED', message: 'too late' } });
    await flush();

    expect(s.texts()).toEqual(['original']);
    expect(s.bubble(mine.id)!.querySelector('[data-testid="message-edited"]')).toBeNull();
    expect($('[data-testid="composer-error"]')!.textContent).toContain('can no longer be edited');
    expect($('[data-testid="composer-edit-bar"]')).not.toBeNull();
    expect(s.input().element.value).toBe('changed too late');
  });

  it('shows an edit made elsewhere (chat:edited) in place', async () => {
    const before = wire(bob, alice, 'before');
    const theirs = wire(bob, alice, 'I will be late');
    const after = wire(bob, alice, 'after');
    const s = await chatWithBob([before, theirs, after]);
    s.socket.serverEmit('chat:edited', { message: { ...theirs, content: 'I will be on time', editedAt: new Date().toISOString() } });
    await flush();
    expect(s.texts()).toEqual(['before', 'I will be on time', 'after']);
    expect(s.bubble(theirs.id)!.querySelector('[data-testid="message-edited"]')).not.toBeNull();
    expect(s.bubble(before.id)!.querySelector('[data-testid="message-edited"]')).toBeNull();
  });

  it('an edit of a message not loaded here adds nothing', async () => {
    const shown = wire(bob, alice, 'shown');
    const s = await chatWithBob([shown]);
    s.socket.serverEmit('chat:edited', { message: wire(bob, alice, 'an old one, edited', { editedAt: new Date().toISOString() }) });
    await flush();
    expect(s.texts()).toEqual(['shown']);
  });
});

describe('in Chinese', () => {
  it('says edited, replying, delivered and a refused edit in zh-CN', async () => {
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-CN');
    const mine = wire(alice, bob, '七点见', { createdAt: ago(3) });
    const theirs = wire(bob, alice, '好的');
    const s = await chatWithBob([mine, theirs]);
    s.socket.serverEmit('chat:delivered', { by: bob.id, messageIds: [mine.id], deliveredAt: new Date().toISOString() });
    s.socket.serverEmit('chat:edited', { message: { ...theirs, content: '好的！', editedAt: new Date().toISOString() } });
    await flush();
    expect(s.bubble(theirs.id)!.querySelector('[data-testid="message-edited"]')!.textContent).toBe('已编辑');
    expect(s.bubble(mine.id)!.querySelector('.bubble-status')!.getAttribute('title')).toBe('已送达');

    await click((await s.hover(theirs.id)).querySelector('[data-testid="message-reply"]')!);
    expect($('[data-testid="composer-reply-bar"]')!.getAttribute('aria-label')).toBe('回复 Bob');

    await click((await s.hover(mine.id)).querySelector('[data-testid="message-edit"]')!);
    await s.type('八点见');
    s.socket.emitsOf('chat:edit')[0]!.ack!({ ok: false, error: { code: 'EDIT_WINDOW_CLOSED', message: 'too late' } });
    await flush();
    expect($('[data-testid="composer-error"]')!.textContent).toContain('已无法编辑');
  });
});
