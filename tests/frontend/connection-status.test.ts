// The dock's connection notice when the server closes this tab's socket on purpose
// (`session:closed`): why, in the chat's language, and for a tab closed as one too many a way to
// take the connection back. Driven through a fake socket.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextTick } from 'vue';
import { FriendChatDock, useFriendChat } from 'friend-chat/vue';
import { useAuthStore } from '@/stores/auth';
import { connectionState } from '@/friend-chat/socket/client';
import { endSession, startSession } from './helpers/session';

afterEach(endSession);

/** Lets fake timers, promises and Vue's render queue move on by `ms`. */
async function advance(ms = 0) {
  await vi.advanceTimersByTimeAsync(ms);
  await nextTick();
}

async function connectedDock() {
  const s = await startSession();
  const wrapper = s.mountInApp(FriendChatDock);
  s.socket.serverConnect();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  await advance();
  const status = () => wrapper.find('[data-testid="connection-status"]');
  expect(status().exists()).toBe(false);
  return { s, wrapper, status };
}

describe('connection notice', () => {
  it('a tab closed as one too many says so and reconnects only when asked, with a fresh token', async () => {
    const { s, wrapper, status } = await connectedDock();
    const connect = vi.spyOn(s.socket, 'connect');

    s.socket.serverEmit('session:closed', { reason: 'too_many_sockets' });
    s.socket.serverDisconnect();
    await advance(60_000);
    expect(connect).not.toHaveBeenCalled();
    expect(status().attributes('data-reason')).toBe('too_many_sockets');
    expect(status().attributes('role')).toBe('alert');
    expect(status().text()).toContain('Chat is open in too many tabs, so this one was disconnected.');
    const button = wrapper.get('[data-testid="connection-reconnect"]');
    expect(button.text()).toBe('Reconnect here');

    // Meanwhile the host renewed its token: the reconnect carries the new one.
    const auth = useAuthStore();
    auth.session = { token: 'token-alice-2', user: auth.user! };
    await button.trigger('click');
    expect(connect).toHaveBeenCalledTimes(1);
    expect(connectionState.value).toBe('reconnecting');
    expect(status().attributes('data-reason')).toBeUndefined();
    expect(status().text()).toContain('Connection lost. Reconnecting…');

    s.socket.serverConnect();
    await advance();
    expect(s.socket.tokens).toEqual(['token-alice', 'token-alice-2']);
    expect(connectionState.value).toBe('connected');
    expect(useFriendChat().closedReason).toBeNull();
    expect(status().exists()).toBe(false);
  });

  it('an expired session says so while it reconnects by itself with the token getToken answers then', async () => {
    const { s, wrapper, status } = await connectedDock();
    const connect = vi.spyOn(s.socket, 'connect');
    const auth = useAuthStore();
    auth.session = { token: 'token-alice-2', user: auth.user! };

    s.socket.serverEmit('session:closed', { reason: 'token_expired' });
    s.socket.serverDisconnect();
    await advance();
    expect(status().attributes('data-reason')).toBe('token_expired');
    expect(status().text()).toContain('Your session expired. Reconnecting…');
    expect(wrapper.find('[data-testid="connection-reconnect"]').exists()).toBe(false);
    expect(useFriendChat().closedReason).toBe('token_expired');

    await advance(1000);
    expect(connect).toHaveBeenCalledTimes(1);
    s.socket.serverConnect();
    await advance();
    expect(s.socket.tokens).toEqual(['token-alice', 'token-alice-2']);
    expect(status().exists()).toBe(false);
  });

  it('a lost connection without a reason shows the plain reconnecting notice', async () => {
    const { s, status } = await connectedDock();
    s.socket.dropConnection();
    await advance();
    expect(status().attributes('data-reason')).toBeUndefined();
    expect(status().text()).toContain('Connection lost. Reconnecting…');
  });

  it('speaks Chinese when the chat does', async () => {
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-CN');
    const { s, wrapper, status } = await connectedDock();
    s.socket.serverEmit('session:closed', { reason: 'too_many_sockets' });
    s.socket.serverDisconnect();
    await advance();
    expect(status().text()).toContain('聊天已在太多标签页中打开，此标签页已断开连接。');
    expect(wrapper.get('[data-testid="connection-reconnect"]').text()).toBe('在此重新连接');

    await wrapper.get('[data-testid="connection-reconnect"]').trigger('click');
    s.socket.serverConnect();
    await advance();
    s.socket.serverEmit('session:closed', { reason: 'token_expired' });
    s.socket.serverDisconnect();
    await advance();
    expect(status().text()).toContain('登录已过期，正在重新连接…');
  });
});
