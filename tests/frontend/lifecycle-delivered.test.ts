import { afterEach, describe, expect, it, vi } from 'vitest';
import { FriendChatDock } from 'friend-chat/vue';
import { useChatStore } from '@/friend-chat/stores/chat';
import { useMessagesStore } from '@/friend-chat/stores/messages';
import { DELIVERED_BATCH_MAX, DELIVERED_FLUSH_MS } from '@/friend-chat/stores/delivery';
import { chatWithBob } from './helpers/chatWindow';
import { alice, bob, carol, endSession, flush, group, groupWire, listEntry, startSession, wire } from './helpers/session';

afterEach(endSession);

const deliveredAcks = (s: Awaited<ReturnType<typeof chatWithBob>>) => s.socket.emitsOf('chat:delivered').map((e) => e.payload.messageIds);

describe('delivered', () => {
  it('my message goes sending → sent → delivered → read, and read wins over a late delivered', async () => {
    const s = await chatWithBob();
    await s.type('Hello Bob');
    const [send] = s.socket.emitsOf('chat:send');
    const status = () => s.wrapper.get('[data-testid="message-bubble"]').attributes('data-status');
    expect(status()).toBe('sending');

    const message = s.stored(send!.payload as { content: string; clientId: string });
    send!.ack!({ ok: true, message });
    await flush();
    expect(status()).toBe('sent');

    s.socket.serverEmit('chat:delivered', { by: bob.id, messageIds: [message.id], deliveredAt: new Date().toISOString() });
    await flush();
    expect(status()).toBe('delivered');
    expect(s.wrapper.get('.bubble-status').attributes('title')).toBe('Delivered');

    s.socket.serverEmit('chat:read', { by: bob.id, peerId: alice.id, readAt: new Date().toISOString() });
    await flush();
    expect(status()).toBe('read');
    // Another tab of bob's acks it again: still read.
    s.socket.serverEmit('chat:delivered', { by: bob.id, messageIds: [message.id], deliveredAt: new Date().toISOString() });
    await flush();
    expect(status()).toBe('read');
  });

  it('a failed send stays failed whatever the server says of other messages', async () => {
    const old = wire(alice, bob, 'earlier');
    const s = await chatWithBob([old]);
    await s.type('will fail');
    s.socket.emitsOf('chat:send')[0]!.ack!({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    await flush();
    s.socket.serverEmit('chat:delivered', { by: bob.id, messageIds: [old.id], deliveredAt: new Date().toISOString() });
    await flush();
    expect(s.wrapper.findAll('[data-testid="message-bubble"]').map((b) => b.attributes('data-status'))).toEqual(['delivered', 'failed']);
  });

  it('acknowledges messages to me in batches: live ones after a short pause, a sync page at once per hundred', async () => {
    // From carol, whose window is closed: acks do not wait for a window (nor does this test for rendering).
    const s = await chatWithBob();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const live = [wire(carol, alice, 'one'), wire(carol, alice, 'two'), wire(carol, alice, 'three')];
    for (const message of live) s.socket.serverEmit('chat:message', { message });
    // Not mine to ack: my own message (another tab sent it) and one the server knows as delivered.
    s.socket.serverEmit('chat:message', { message: wire(alice, carol, 'from my other tab') });
    s.socket.serverEmit('chat:message', { message: wire(carol, alice, 'known', { deliveredAt: new Date().toISOString() }) });
    await vi.advanceTimersByTimeAsync(DELIVERED_FLUSH_MS - 10);
    expect(deliveredAcks(s)).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(deliveredAcks(s)).toEqual([live.map((m) => m.id)]);
    s.socket.emitsOf('chat:delivered')[0]!.ack!({ ok: true });

    // A reconnect's sync brings 120 missed messages (and one already acked again).
    const missed = Array.from({ length: 120 }, (_, i) => wire(carol, alice, `missed ${i}`));
    s.socket.respond('chat:sync', () => ({ ok: true, messages: [live[0]!, ...missed], nextCursor: 'c-2', hasMore: false }));
    s.socket.dropConnection();
    s.socket.serverConnect();
    await vi.advanceTimersByTimeAsync(0);
    expect(deliveredAcks(s).slice(1)).toEqual([missed.slice(0, DELIVERED_BATCH_MAX).map((m) => m.id)]);
    await vi.advanceTimersByTimeAsync(DELIVERED_FLUSH_MS);
    expect(deliveredAcks(s).slice(1)).toEqual([missed.slice(0, DELIVERED_BATCH_MAX).map((m) => m.id), missed.slice(DELIVERED_BATCH_MAX).map((m) => m.id)]);
  });

  it('takes the receipt of what it acked from the answer (the server pushes it to my other tabs only)', async () => {
    const m = wire(bob, alice, 'hello');
    const s = await chatWithBob();
    const deliveredAt = '2026-12-05T12:00:00.000Z';
    s.socket.respond('chat:delivered', () => ({ ok: true, messageIds: [m.id], deliveredAt }));
    s.socket.serverEmit('chat:message', { message: m });
    await flush();
    const stored = () =>
      Object.values(useMessagesStore().threads)
        .flatMap((t) => t.messages)
        .find((x) => x.id === m.id);
    expect(stored()?.deliveredAt).toBeNull();
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    await flush();
    expect(deliveredAcks(s)).toEqual([[m.id]]);
    expect(stored()?.deliveredAt).toBe(deliveredAt);
  });

  it('asks again for messages whose ack failed, the next time they come by', async () => {
    const m = wire(bob, alice, 'hello');
    const s = await chatWithBob();
    s.socket.respond('chat:delivered', () => ({ ok: false, error: { code: 'UNAVAILABLE', message: 'busy' } }));
    s.socket.serverEmit('chat:message', { message: m });
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    await flush();
    s.socket.respond('chat:delivered', () => ({ ok: true }));
    s.socket.serverEmit('chat:message', { message: m });
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    expect(deliveredAcks(s)).toEqual([[m.id], [m.id]]);
  });
});

describe('delivered and read in a group', () => {
  const team = group(1, 'Weekend hikers');

  it("shows on my messages how many other members read them, from their read positions, live", async () => {
    const early = groupWire(alice, team, 'early', { createdAt: '2026-12-01T10:00:00.000Z' });
    const late = groupWire(alice, team, 'late', { createdAt: '2026-12-01T10:05:00.000Z' });
    const theirs = groupWire(carol, team, 'not mine', { createdAt: '2026-12-01T10:06:00.000Z' });
    const member = (u: typeof alice, readAt: string) => ({ user: u, role: 'member', joinedAt: '2026-12-01T09:00:00.000Z', readAt });
    const s = await startSession({
      'GET /api/groups': () => ({ groups: [listEntry(team)] }),
      // Carol read up to between the two; bob before both; my own position never counts.
      'GET /api/groups/:groupId': () => ({
        group: team,
        members: [member(alice, '2026-12-01T11:00:00.000Z'), member(carol, '2026-12-01T10:01:00.000Z'), member(bob, '2026-12-01T09:30:00.000Z')],
      }),
      'GET /api/groups/:groupId/messages': () => ({ messages: [early, late, theirs], nextCursor: null }),
    });
    s.socket.serverConnect();
    const wrapper = s.mountInApp(FriendChatDock);
    useChatStore().openGroup(team);
    await flush();
    const receipts = (id: string) => wrapper.find(`[data-message-id="${id}"] [data-testid="message-receipts"]`);
    expect(receipts(early.id).text()).toBe('Read by 1');
    expect(receipts(late.id).exists()).toBe(false);
    expect(receipts(theirs.id).exists()).toBe(false);

    s.socket.serverEmit('group:read', { groupId: team.id, userId: bob.id, readAt: '2026-12-01T10:07:00.000Z' });
    await flush();
    expect(receipts(early.id).text()).toBe('Read by 2');
    expect(receipts(late.id).text()).toBe('Read by 1');
    // Group messages are not acked one by one.
    await new Promise((r) => setTimeout(r, DELIVERED_FLUSH_MS + 20));
    expect(s.socket.emitsOf('chat:delivered')).toEqual([]);
  });
});
