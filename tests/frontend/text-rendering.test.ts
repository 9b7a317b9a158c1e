import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import ChatBubble from '@/friend-chat/components/chat/ChatBubble.vue';
import { alice, bob, wire } from './helpers/session';

describe('message text', () => {
  it('is rendered as text: markup shows literally and nothing becomes an element or a link', () => {
    const content = '<script>alert("x")</script><img src=x onerror=alert(1)> <a href="javascript:alert(1)">click</a>';
    const message = { ...wire(bob, alice, content), key: 'k' };
    const wrapper = mount(ChatBubble, { props: { message, own: false }, global: { plugins: [createPinia()] } });

    const bubble = wrapper.get('[data-testid="message-bubble"]');
    expect(bubble.text()).toContain(content);
    expect(bubble.find('script').exists()).toBe(false);
    expect(bubble.find('img').exists()).toBe(false);
    expect(bubble.find('a').exists()).toBe(false);
  });
});
