import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import type { PublicUser } from '@shared/events';
import { FriendChatAvatar, FriendChatConversationsMenu, FriendChatDock } from 'friend-chat/vue';
import { useUiStore } from '@/stores/ui';
import { alice, endSession, flush, startSession, wire } from './helpers/session';

// A conversation with someone the host deleted (chat.userDeleted): the server lists it with a
// placeholder user; the chat names it in the page's language, keeps the history readable and
// offers no input.
const gone: PublicUser = { id: 'deleted:0190a6e2-0000-7000-8000-000000000001', username: '', displayName: 'Deleted user', avatarUrl: null, deleted: true };
const history = [wire(alice, gone, 'see you'), wire(gone, alice, 'bye for now')];

const MenuWithDock = defineComponent({ setup: () => () => h('div', [h(FriendChatConversationsMenu), h(FriendChatDock)]) });

afterEach(endSession);

describe('a conversation with a deleted user', () => {
  async function setup() {
    const s = await startSession({
      'GET /api/messages/conversations/list': () => ({
        conversations: [{ peer: gone, lastMessage: history[1], unread: 0, updatedAt: history[1]!.createdAt }],
      }),
      'GET /api/messages/:peerId': () => ({ messages: history, nextCursor: null }),
    });
    s.socket.serverConnect();
    const wrapper = s.mountInApp(MenuWithDock);
    await flush();
    await wrapper.get('[data-testid="topbar-messages"]').trigger('click');
    await flush();
    return { ...s, wrapper };
  }
  const item = () => document.querySelector<HTMLElement>(`[data-testid="conversation-item"][data-peer-id="${gone.id}"]`);

  it('is listed as "Deleted user" in the page’s language, with a grey "?" avatar', async () => {
    await setup();
    expect(item()?.querySelector('.conv-name')?.textContent).toBe('Deleted user');
    expect(item()?.querySelector('.n-avatar')?.textContent?.trim()).toBe('?');
    useUiStore().setLocale('zh-CN');
    await flush();
    expect(item()?.querySelector('.conv-name')?.textContent).toBe('已注销的用户');
  });

  it('opens to the history, without an input, saying the account is gone', async () => {
    const { wrapper } = await setup();
    item()!.click();
    await flush();
    const win = wrapper.get(`[data-testid="chat-window"][data-peer-id="${gone.id}"]`);
    expect(win.findAll('[data-testid="message-bubble"]').map((b) => b.text())).toEqual([
      expect.stringContaining('see you'),
      expect.stringContaining('bye for now'),
    ]);
    expect(win.find('[data-testid="chat-input"]').exists()).toBe(false);
    expect(win.get('[data-testid="chat-peer-deleted"]').text()).toBe('This account no longer exists.');
    expect(win.get('.cw-name').text()).toBe('Deleted user');
  });
});

describe('FriendChatAvatar, for a host’s own lists', () => {
  it('shows two Latin initials, the first character of a CJK name, or "?" for a deleted user', async () => {
    const { mountInApp } = await startSession();
    const avatar = (u: PublicUser) => mountInApp(FriendChatAvatar, { user: u, size: 30 }).get('.n-avatar').text();
    expect(avatar({ id: '7', username: 'ada', displayName: 'Ada Lovelace', avatarUrl: null })).toBe('AL');
    expect(avatar({ id: '8', username: 'li', displayName: '李雷', avatarUrl: null })).toBe('李');
    expect(avatar(gone)).toBe('?');
  });
});
