import { afterEach, describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import FriendItem from '@/components/friends/FriendItem.vue';
import TopBar from '@/components/layout/TopBar.vue';
import { bob, carol, endSession, flush, startSession } from './helpers/session';

afterEach(endSession);

const TopBarAndFriends = defineComponent({
  setup: () => () => h('div', [h(TopBar), h('ul', [bob, carol].map((u) => h(FriendItem, { user: u })))]),
});

describe('unread badges', () => {
  it('follow the counts the server pushes with unread:update', async () => {
    const s = await startSession();
    s.socket.serverConnect();
    const wrapper = s.mountInApp(TopBarAndFriends);
    await flush();
    const badge = (testid: string, userId?: string) =>
      wrapper.find(userId ? `[data-user-id="${userId}"] [data-testid="${testid}"]` : `[data-testid="${testid}"]`);

    // Nothing unread: no badge at all.
    expect(badge('unread-total').exists()).toBe(false);
    expect(badge('notification-badge').exists()).toBe(false);

    s.socket.serverEmit('unread:update', { total: 5, byPeer: { [bob.id]: 3, [carol.id]: 2 }, byGroup: {}, system: 4, muted: { users: [], groups: [] } });
    await flush();
    expect(badge('unread-total').text()).toBe('5');
    expect(badge('notification-badge').text()).toBe('4');
    expect(badge('friend-unread', bob.id).text()).toBe('3');
    expect(badge('friend-unread', carol.id).text()).toBe('2');
    expect(document.title).toBe('(9) Friend Chat');

    // Bob's conversation was read in another tab; system messages were all read.
    s.socket.serverEmit('unread:update', { total: 2, byPeer: { [carol.id]: 2 }, byGroup: {}, system: 0, muted: { users: [], groups: [] } });
    await flush();
    expect(badge('unread-total').text()).toBe('2');
    expect(badge('notification-badge').exists()).toBe(false);
    expect(badge('friend-unread', bob.id).exists()).toBe(false);
    expect(badge('friend-unread', carol.id).text()).toBe('2');
    expect(document.title).toBe('(2) Friend Chat');
  });
});
