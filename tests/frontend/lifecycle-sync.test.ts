import { afterEach, describe, expect, it } from 'vitest';
import { useConversationsStore } from '@/friend-chat/stores/conversations';
import { DELIVERED_FLUSH_MS } from '@/friend-chat/stores/delivery';
import { chatWithBob } from './helpers/chatWindow';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

afterEach(endSession);

describe('a sync that carries changes', () => {
  it('replaces the messages it brings again in place and removes recalled ones, adding none of them', async () => {
    const gone = wire(bob, alice, 'never loaded, since recalled');
    const one = wire(bob, alice, 'one');
    const two = wire(alice, bob, 'two');
    const three = wire(bob, alice, 'three');
    const four = wire(alice, bob, 'four');
    let historyCalls = 0;
    // The window's first load answers; the refresh of the latest page after the reconnect never
    // does, so what the window shows afterwards comes from the sync alone.
    const s = await chatWithBob([], {
      'GET /api/messages/:peerId': () => (++historyCalls === 1 ? { messages: [one, two, three, four], nextCursor: null } : new Promise(() => {})),
    });
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    expect(s.texts()).toEqual(['one', 'two', 'three', 'four']);

    const now = new Date().toISOString();
    const five = wire(bob, alice, 'five');
    const lateRecall = wire(bob, alice, 'sent and recalled while away');
    s.socket.dropConnection();
    s.socket.respond('chat:sync', () => ({
      ok: true,
      messages: [
        { ...gone, content: '', deletedAt: now },
        { ...one, content: 'one, edited', editedAt: now, reactions: [{ emoji: '❤️', count: 1, mine: true }] },
        { ...two, deliveredAt: now },
        { ...three, content: '', deletedAt: now },
        { ...four, deliveredAt: now, isRead: true, readAt: now },
        five,
        { ...lateRecall, content: '', deletedAt: now },
      ],
      nextCursor: 'cursor-2',
      hasMore: false,
    }));
    s.socket.serverConnect();
    await flush();

    expect(s.ids()).toEqual([one.id, two.id, four.id, five.id]);
    expect(s.texts()).toEqual(['one, edited', 'two', 'four', 'five']);
    expect(s.bubble(one.id)!.querySelector('[data-testid="message-edited"]')).not.toBeNull();
    expect([...s.row(one.id)!.querySelectorAll<HTMLElement>('[data-testid="reaction-chip"]')].map((c) => [c.dataset.emoji, c.dataset.mine])).toEqual([
      ['❤️', 'true'],
    ]);
    expect(s.bubble(two.id)!.dataset.status).toBe('delivered');
    expect(s.bubble(four.id)!.dataset.status).toBe('read');

    // Only the new message is acked as delivered: not the recalled ones, nor those acked before.
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    expect(s.socket.emitsOf('chat:delivered').map((e) => e.payload.messageIds)).toEqual([[one.id, three.id], [five.id]]);
  });

  it('a recall that comes by sync updates the conversations list as a live recall does', async () => {
    const last = wire(bob, alice, 'oops, wrong chat');
    let loads = 0;
    const s = await startSession({
      // The server's list after the recall no longer has this conversation.
      'GET /api/messages/conversations/list': () =>
        ++loads === 1 ? { conversations: [{ peer: bob, lastMessage: last, unread: 1, updatedAt: last.createdAt, muted: false }] } : { conversations: [] },
    });
    const conversations = useConversationsStore();
    await conversations.load();
    expect(conversations.list).toHaveLength(1);
    // The first connection of the session (no refresh of the list of its own) syncs the recall.
    s.socket.respond('chat:sync', () => ({ ok: true, messages: [{ ...last, content: '', deletedAt: new Date().toISOString() }], nextCursor: 'c', hasMore: false }));
    s.socket.serverConnect();
    await flush();
    expect(conversations.list).toEqual([]);
  });
});
