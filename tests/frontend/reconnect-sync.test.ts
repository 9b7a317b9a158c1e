import { afterEach, describe, expect, it, vi } from 'vitest';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

afterEach(endSession);

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('after a reconnect', () => {
  it('syncs what was missed from the stored cursor, without duplicates, then refreshes the window', async () => {
    const m1 = wire(bob, alice, 'one');
    const m2 = wire(alice, bob, 'two');
    const m3 = wire(bob, alice, 'three');
    const m4 = wire(bob, alice, 'four');
    const m5 = wire(alice, bob, 'five');
    const m6 = wire(bob, alice, 'six');
    // The window's first load answers at once; the refresh after the reconnect is held back, so
    // what the window shows meanwhile comes from the sync alone.
    const refresh = deferred<unknown>();
    let historyCalls = 0;
    const s = await startSession({
      'GET /api/messages/:peerId': () => (++historyCalls === 1 ? { messages: [m1, m2], nextCursor: null } : refresh.promise),
    });
    s.socket.respond('chat:sync', () => ({ ok: true, messages: [], nextCursor: 'cursor-1', hasMore: false }));
    s.socket.serverConnect();
    const wrapper = s.mountInApp(FriendChatDock);
    useFriendChat().open(bob);
    await flush();
    const texts = () => wrapper.findAll('[data-testid="message-bubble"]').map((b) => b.text().replace(/\d\d:\d\d.*$/, '').trim());
    expect(texts()).toEqual(['one', 'two']);

    s.socket.dropConnection();
    // While away: m2 (already shown) comes again in the sync, m4 sits on both pages, and m5 is the
    // live push this tab also received right before the drop.
    s.socket.serverEmit('chat:message', { message: m5 });
    s.socket.respond('chat:sync', ({ after }) =>
      after === 'cursor-1'
        ? { ok: true, messages: [m2, m3, m4], nextCursor: 'cursor-2', hasMore: true }
        : { ok: true, messages: [m4, m5, m6], nextCursor: 'cursor-3', hasMore: false },
    );
    s.socket.serverConnect();
    await flush();

    expect(s.socket.emitsOf('chat:sync').map((e) => e.payload.after)).toEqual([undefined, 'cursor-1', 'cursor-2']);
    expect(texts()).toEqual(['one', 'two', 'three', 'four', 'five', 'six']);
    expect(localStorage.getItem(`friend-chat:${alice.id}:sync-cursor`)).toBe('"cursor-3"');

    // The refreshed latest page knows that m3 was recalled meanwhile.
    refresh.resolve({ messages: [m1, m2, m4, m5, m6], nextCursor: null });
    await flush();
    expect(texts()).toEqual(['one', 'two', 'four', 'five', 'six']);

    // Listeners were registered once: a live message after the reconnect shows once.
    s.socket.serverEmit('chat:message', { message: wire(bob, alice, 'seven') });
    await flush();
    expect(texts().filter((t) => t === 'seven')).toHaveLength(1);
    expect(s.socket.listenerCount('chat:message')).toBe(1);
  });

  it('keeps a message pushed while the window’s first page is on its way, when the page was read before it', async () => {
    const m1 = wire(bob, alice, 'one');
    const late = wire(bob, alice, 'pushed meanwhile');
    const first = deferred<unknown>();
    const s = await startSession({ 'GET /api/messages/:peerId': () => first.promise });
    s.socket.respond('chat:sync', () => ({ ok: true, messages: [], nextCursor: 'cursor-1', hasMore: false }));
    s.socket.serverConnect();
    const wrapper = s.mountInApp(FriendChatDock);
    useFriendChat().open(bob);
    await flush();
    s.socket.serverEmit('chat:message', { message: late });
    await flush();
    first.resolve({ messages: [m1], nextCursor: null });
    await flush();
    const texts = wrapper.findAll('[data-testid="message-bubble"]').map((b) => b.text().replace(/\d\d:\d\d.*$/, '').trim());
    expect(texts).toEqual(['one', 'pushed meanwhile']);
  });

  it('the next page load resumes from the stored cursor', async () => {
    localStorage.setItem(`friend-chat:${alice.id}:sync-cursor`, JSON.stringify('cursor-9'));
    const s = await startSession();
    s.socket.serverConnect();
    await flush();
    expect(s.socket.emitsOf('chat:sync')[0]!.payload).toEqual({ after: 'cursor-9', limit: 100 });
  });

  it('asks again for a sync page the server refused as RATE_LIMITED, after a pause', async () => {
    const m1 = wire(bob, alice, 'missed');
    const s = await startSession();
    let asked = 0;
    s.socket.respond('chat:sync', () =>
      ++asked === 1
        ? { ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } }
        : { ok: true, messages: [m1], nextCursor: 'cursor-1', hasMore: false },
    );
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    s.socket.serverConnect();
    await vi.advanceTimersByTimeAsync(10);
    expect(asked).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toBe(2);
    expect(localStorage.getItem(`friend-chat:${alice.id}:sync-cursor`)).toBe('"cursor-1"');
  });
});
