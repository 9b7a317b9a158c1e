// A tab whose socket the server closed and that waits for the user (connectionState `closed`:
// one tab too many, or a token the server refused and getToken could not renew): each open chat
// window says so with a Reconnect button, the composer keeps what is typed but does not pretend to
// send it, and what failed because of the closing goes again once connected. Fake socket.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { useAuthStore } from '@/stores/auth';
import { connectionState, request } from '@/friend-chat/socket/client';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

afterEach(endSession);

async function chatWithBob() {
  const s = await startSession();
  s.socket.serverConnect();
  const wrapper = s.mountInApp(FriendChatDock);
  useFriendChat().open(bob);
  await flush();
  const notice = () => wrapper.find('[data-testid="chat-closed-notice"]');
  const input = () => wrapper.get<HTMLTextAreaElement>('[data-testid="chat-input"]');
  const send = () => wrapper.get<HTMLButtonElement>('[data-testid="chat-send"]');
  const bubbles = () => wrapper.findAll('[data-testid="message-bubble"]');
  const closeAsOneTooMany = async () => {
    s.socket.serverEmit('session:closed', { reason: 'too_many_sockets' });
    s.socket.serverDisconnect();
    await flush();
  };
  return { ...s, wrapper, notice, input, send, bubbles, closeAsOneTooMany };
}

describe('a tab the server closed', () => {
  it('says so in the window, keeps what is typed without sending it, and sends it after Reconnect', async () => {
    const { socket, wrapper, notice, input, send, bubbles, closeAsOneTooMany } = await chatWithBob();
    expect(notice().exists()).toBe(false);

    await closeAsOneTooMany();
    expect(connectionState.value).toBe('closed');
    expect(notice().attributes('role')).toBe('alert');
    expect(notice().attributes('data-reason')).toBe('too_many_sockets');
    expect(notice().text()).toContain('Chat is open in too many tabs, so this one was disconnected.');
    expect(notice().text()).toContain('What you type is kept');

    // Typing goes on; neither Send nor Enter pretends to send.
    await input().setValue('still here');
    expect(send().attributes('disabled')).toBeDefined();
    await input().trigger('keydown', { key: 'Enter' });
    await send().trigger('click');
    await flush();
    expect(socket.emitsOf('chat:send')).toHaveLength(0);
    expect(bubbles()).toHaveLength(0);
    expect(input().element.value).toBe('still here');
    expect(wrapper.get('[data-testid="chat-attach"]').attributes('disabled')).toBeDefined();

    const connect = vi.spyOn(socket, 'connect');
    await wrapper.get('[data-testid="chat-closed-reconnect"]').trigger('click');
    expect(connect).toHaveBeenCalledTimes(1);
    socket.serverConnect();
    await flush();
    expect(notice().exists()).toBe(false);
    expect(input().element.value).toBe('still here');
    expect(send().attributes('disabled')).toBeUndefined();
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
    expect(socket.emitsOf('chat:send').map((e) => e.payload.content)).toEqual(['still here']);
  });

  it('a message on its way when the tab was closed fails as closed at once, then goes again with the same clientId once reconnected', async () => {
    const { socket, wrapper, input, bubbles, closeAsOneTooMany } = await chatWithBob();
    await input().setValue('on its way');
    await input().trigger('keydown', { key: 'Enter' });
    await flush();
    const [first] = socket.emitsOf('chat:send');
    expect(first!.payload.content).toBe('on its way');
    expect(bubbles()[0]!.attributes('data-status')).toBe('sending');

    // The server closes the tab before it answers: that answer will never come on this socket.
    await closeAsOneTooMany();
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');

    await wrapper.get('[data-testid="chat-closed-reconnect"]').trigger('click');
    socket.serverConnect();
    await flush();
    const sends = socket.emitsOf('chat:send');
    expect(sends).toHaveLength(2);
    expect(sends[1]!.payload).toEqual(first!.payload);
    sends[1]!.ack!({ ok: true, message: wire(alice, bob, 'on its way', { clientId: first!.payload.clientId }) });
    await flush();
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('sent');
  });

  it('a message sent while closed fails as closed and goes by itself once reconnected', async () => {
    const { socket, wrapper, bubbles, closeAsOneTooMany } = await chatWithBob();
    await closeAsOneTooMany();
    // A voice note or a retry can still reach the outbox while closed: it fails at once, kept.
    const { useOutboxStore } = await import('@/friend-chat/stores/outbox');
    useOutboxStore().send(bob.id, 'recorded while closed');
    await flush();
    expect(bubbles()).toHaveLength(1);
    expect(bubbles()[0]!.attributes('data-status')).toBe('failed');
    expect(socket.emitsOf('chat:send')).toHaveLength(0);

    await wrapper.get('[data-testid="chat-closed-reconnect"]').trigger('click');
    socket.serverConnect();
    await flush();
    const [resend] = socket.emitsOf('chat:send');
    expect(resend!.payload.content).toBe('recorded while closed');
    resend!.ack!({ ok: true, message: wire(alice, bob, 'recorded while closed', { clientId: resend!.payload.clientId }) });
    await flush();
    expect(bubbles()[0]!.attributes('data-status')).toBe('sent');
  });

  it('a token refused on reconnect (expired, not renewed) closes the tab with its own notice, in Chinese too', async () => {
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-CN');
    const { socket, wrapper, notice, input, send } = await chatWithBob();
    // This host does not sign out when told (the demo does; then the chat stops altogether).
    const auth = useAuthStore();
    const signOut = vi.spyOn(auth, 'logout').mockImplementation(() => {});
    await input().setValue('草稿');

    socket.serverEmit('session:closed', { reason: 'token_expired' });
    socket.serverDisconnect();
    socket.fire('connect_error', new Error('unauthorized'));
    await flush();
    expect(signOut).toHaveBeenCalledTimes(1);
    expect(connectionState.value).toBe('closed');
    expect(useFriendChat().closedReason).toBe('unauthorized');
    expect(notice().attributes('data-reason')).toBe('unauthorized');
    expect(notice().text()).toContain('登录已失效，聊天已断开连接。请重新登录后再连接。');
    expect(notice().text()).toContain('输入的内容会被保留');
    expect(wrapper.get('[data-testid="connection-status"]').attributes('data-reason')).toBe('unauthorized');
    expect(send().attributes('disabled')).toBeDefined();
    expect(input().element.value).toBe('草稿');
    expect(await request('presence:list', {}).catch((e: Error & { code: string }) => e.code)).toBe('CLOSED');

    // The host signed in again meanwhile: Reconnect carries the new token.
    auth.session = { token: 'token-alice-2', user: auth.user! };
    await wrapper.get('[data-testid="chat-closed-reconnect"]').trigger('click');
    socket.serverConnect();
    await flush();
    expect(socket.tokens.at(-1)).toBe('token-alice-2');
    expect(notice().exists()).toBe(false);
    expect(send().attributes('disabled')).toBeUndefined();
  });
});
