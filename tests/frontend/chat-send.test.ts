import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import type { ChatWireMessage } from '@shared/events';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { ACK_TIMEOUT_MS } from '@/friend-chat/socket/client';
import type { Emitted } from './helpers/fakeSocket';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

afterEach(endSession);

async function chatWithBob({ connected = true } = {}) {
  const s = await startSession();
  // chat:send acks stay pending: each test answers them itself.
  if (connected) s.socket.serverConnect();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const input = () => wrapper.get<HTMLTextAreaElement>('[data-testid="chat-input"]');
  const bubbles = () => wrapper.findAll('[data-testid="message-bubble"]');
  async function type(text: string, key: { shiftKey?: boolean } = {}) {
    await input().setValue(text);
    await input().trigger('keydown', { key: 'Enter', ...key });
    await flush();
  }
  const stored = (e: Emitted<'chat:send'>): ChatWireMessage =>
    wire(alice, bob, e.payload.content, { clientId: e.payload.clientId });
  return { ...s, wrapper, input, bubbles, type, stored };
}

describe('sending a message', () => {
  it('shows it at once as sending, then sent on the ack, then read on the receipt', async () => {
    const { socket, input, bubbles, type, stored } = await chatWithBob();
    await type('Hello Bob');

    expect(input().element.value).toBe('');
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.text()).toContain('Hello Bob');
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');

    const [send] = socket.emitsOf('chat:send');
    expect(send!.payload).toMatchObject({ to: bob.id, content: 'Hello Bob' });
    send!.ack!({ ok: true, message: stored(send!) });
    await flush();
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sent');

    socket.serverEmit('chat:read', { by: bob.id, peerId: alice.id, readAt: new Date().toISOString() });
    await flush();
    expect(bubbles()[0]!.attributes('data-status')).toBe('read');
  });

  it('Shift+Enter adds a line instead of sending', async () => {
    const { socket, bubbles, type } = await chatWithBob();
    await type('first line', { shiftKey: true });
    expect(socket.emitsOf('chat:send')).toHaveLength(0);
    expect(bubbles()).toHaveLength(0);
  });

  it('a failed send keeps the text and retries with the same clientId', async () => {
    const { socket, wrapper, bubbles, type, stored } = await chatWithBob();
    await type('Are you free tonight?');
    const [first] = socket.emitsOf('chat:send');
    first!.ack!({ ok: false, error: { code: 'RATE_LIMITED', message: 'slow down' } });
    await flush();

    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(bubbles()[0]!.text()).toContain('Are you free tonight?');

    await wrapper.get('[data-testid="message-retry"]').trigger('click');
    await flush();
    const sends = socket.emitsOf('chat:send');
    expect(sends).toHaveLength(2);
    expect(sends[1]!.payload).toEqual(first!.payload);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');

    sends[1]!.ack!({ ok: true, message: stored(sends[1]!) });
    await flush();
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sent');
    expect(wrapper.find('[data-testid="message-retry"]').exists()).toBe(false);
  });

  it('while disconnected a send waits as sending and goes out after the reconnect', async () => {
    const { socket, bubbles, type, stored } = await chatWithBob({ connected: false });
    await type('sent while offline');
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');
    expect(socket.emitsOf('chat:send')).toHaveLength(0);

    socket.serverConnect();
    await flush();
    const [send] = socket.emitsOf('chat:send');
    expect(send!.payload.content).toBe('sent while offline');
    send!.ack!({ ok: true, message: stored(send!) });
    await flush();
    expect(bubbles().map((b) => b.attributes('data-status'))).toEqual(['sent']);
  });

  it('a send with no ack fails after the timeout, with its text kept', async () => {
    const { socket, input, bubbles } = await chatWithBob();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await input().setValue('anyone there?');
    await input().trigger('keydown', { key: 'Enter' });
    await vi.advanceTimersByTimeAsync(50);
    expect(socket.emitsOf('chat:send')).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');

    await vi.advanceTimersByTimeAsync(ACK_TIMEOUT_MS);
    await nextTick();
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(bubbles()[0]!.text()).toContain('anyone there?');
  });
});
