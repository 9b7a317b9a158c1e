import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import type { PublicUser } from '@shared/events';
import { FriendChatDock } from 'friend-chat/vue';
import FriendItem from '@/components/friends/FriendItem.vue';
import { alice, bob, carol, dave, endSession, erin, flush, startSession, wire } from './helpers/session';

// The friends list and the dock, as on the friends page.
const FriendsWithDock = defineComponent({
  setup: () => () => h('div', [h('ul', [bob, carol, dave, erin].map((u) => h(FriendItem, { user: u }))), h(FriendChatDock)]),
});

afterEach(endSession);

describe('chat windows', () => {
  async function setup() {
    const s = await startSession();
    s.socket.serverConnect();
    const wrapper = s.mountInApp(FriendsWithDock);
    await flush();
    const openChat = async (u: PublicUser) => {
      await wrapper.get(`[data-testid="friend-item"][data-user-id="${u.id}"] [data-testid="friend-chat-button"]`).trigger('click');
      await flush();
    };
    const windowOf = (u: PublicUser) => wrapper.find(`[data-testid="chat-window"][data-peer-id="${u.id}"]`);
    const openPeers = () => wrapper.findAll('[data-testid="chat-window"]').map((w) => w.attributes('data-peer-id'));
    return { ...s, wrapper, openChat, windowOf, openPeers };
  }

  it('opening a fourth window closes the least recently used one, not the oldest', async () => {
    const { openChat, windowOf, openPeers } = await setup();
    await openChat(bob);
    await openChat(carol);
    await openChat(dave);
    expect(openPeers()).toEqual([bob.id, carol.id, dave.id]);

    // Bob's window (opened first) is used again, so Carol's is now the least recently used.
    await windowOf(bob).trigger('mousedown');
    await openChat(erin);

    expect(openPeers()).toEqual([bob.id, dave.id, erin.id]);
    expect(windowOf(carol).exists()).toBe(false);
  });

  it('a minimized window shows its unread count and marks nothing read until restored', async () => {
    const { socket, wrapper, openChat, windowOf } = await setup();
    await openChat(bob);
    await windowOf(bob).get('[data-testid="chat-window-minimize"]').trigger('click');
    await flush();
    expect(windowOf(bob).attributes('data-minimized')).toBe('true');
    expect(windowOf(bob).find('[data-testid="chat-input"]').exists()).toBe(false);
    expect(windowOf(bob).find('[data-testid="chat-window-unread"]').exists()).toBe(false);
    const readsBefore = socket.emitsOf('chat:read').length;

    socket.serverEmit('chat:message', { message: wire(bob, alice, 'are you there?') });
    socket.serverEmit('chat:message', { message: wire(bob, alice, 'hello?') });
    socket.serverEmit('unread:update', { total: 2, byPeer: { [bob.id]: 2 }, byGroup: {}, system: 0, muted: { users: [], groups: [] } });
    await flush();

    expect(windowOf(bob).get('[data-testid="chat-window-unread"]').text()).toBe('2');
    expect(socket.emitsOf('chat:read')).toHaveLength(readsBefore);

    // Restoring shows the messages, so the conversation is read and the badge goes away.
    await windowOf(bob).get('[data-testid="chat-window-minimize"]').trigger('click');
    await flush();
    expect(socket.emitsOf('chat:read').map((e) => e.payload)).toContainEqual({ peerId: bob.id });
    expect(wrapper.findAll('[data-testid="message-bubble"]').map((b) => b.text())).toEqual([
      expect.stringContaining('are you there?'),
      expect.stringContaining('hello?'),
    ]);
    expect(wrapper.find(`[data-testid="friend-item"][data-user-id="${bob.id}"] [data-testid="friend-unread"]`).exists()).toBe(false);
  });

  it('open windows come back after a reload', async () => {
    const first = await setup();
    await first.openChat(bob);
    await first.openChat(carol);
    await first.windowOf(carol).get('[data-testid="chat-window-minimize"]').trigger('click');
    await flush();
    first.wrapper.unmount();
    const saved = localStorage.getItem(`friend-chat:${alice.id}:windows`);

    // A new page: fresh stores and socket, same localStorage.
    endSession();
    localStorage.setItem(`friend-chat:${alice.id}:windows`, saved!);
    const second = await setup();
    expect(second.openPeers()).toEqual([bob.id, carol.id]);
    expect(second.windowOf(carol).attributes('data-minimized')).toBe('true');
    expect(second.windowOf(bob).attributes('data-minimized')).toBe('false');
  });
});
