import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import FriendItem from '@/components/friends/FriendItem.vue';
import LanguageSwitch from '@/components/layout/LanguageSwitch.vue';
import { useFriendsStore } from '@/friend-chat/stores/friends';
import { bob, endSession, flush, startSession } from './helpers/session';

afterEach(endSession);

const Page = defineComponent({ setup: () => () => h('div', [h(LanguageSwitch), h('ul', [h(FriendItem, { user: bob })])]) });

describe('language', () => {
  it('follows a Chinese browser by default and switches to English on click', async () => {
    vi.spyOn(navigator, 'language', 'get').mockReturnValue('zh-CN');
    const s = await startSession();
    useFriendsStore().setPresence({ userId: bob.id, online: false, lastSeenAt: new Date(Date.now() - 2 * 60_000 - 5_000).toISOString() });
    const wrapper = s.mountInApp(Page);
    await flush();
    const item = () => wrapper.get('[data-testid="friend-item"]');
    expect(item().text()).toContain('2 分钟前');
    expect(item().get('[data-testid="friend-chat-button"]').text()).toBe('聊天');
    expect(document.documentElement.lang).toBe('zh-CN');

    await wrapper.get('[data-testid="language-switch"]').trigger('click');
    await flush();
    expect(item().text()).toContain('2 min ago');
    expect(item().get('[data-testid="friend-chat-button"]').text()).toBe('Chat');
    expect(localStorage.getItem('friend-chat:locale')).toBe('"en"');
  });
});
