import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h } from 'vue';
import { FriendChatDock } from 'friend-chat/vue';
import TopBar from '@/components/layout/TopBar.vue';
import { alice, bob, endSession, flush, startSession, wire } from './helpers/session';

/** A Notification API stand-in that records what the page asked for and showed. */
function stubNotifications(permission: NotificationPermission) {
  const shown: FakeNotification[] = [];
  const requestPermission = vi.fn(async () => {
    FakeNotification.permission = 'granted';
    return 'granted' as const;
  });
  class FakeNotification {
    static permission = permission;
    static requestPermission = requestPermission;
    onclick: (() => void) | null = null;
    constructor(
      readonly title: string,
      readonly options: NotificationOptions,
    ) {
      shown.push(this);
    }
    close() {}
  }
  vi.stubGlobal('Notification', FakeNotification);
  return { shown, requestPermission };
}

const Page = defineComponent({ setup: () => () => h('div', [h(TopBar), h(FriendChatDock)]) });

afterEach(endSession);

describe('desktop notifications', () => {
  const focus = vi.fn();
  beforeEach(() => {
    focus.mockClear();
    vi.spyOn(window, 'focus').mockImplementation(() => focus());
  });

  it('asks for permission only when the user clicks the button, never on load', async () => {
    const api = stubNotifications('default');
    const s = await startSession();
    s.socket.serverConnect();
    const wrapper = s.mountInApp(Page);
    await flush();
    s.socket.serverEmit('chat:message', { message: wire(bob, alice, 'hi') });
    await flush();
    expect(api.requestPermission).not.toHaveBeenCalled();
    // The module's button, in the module's own words.
    expect(wrapper.get('[data-testid="desktop-notify-button"]').attributes('aria-label')).toBe('Enable desktop notifications');

    await wrapper.get('[data-testid="desktop-notify-button"]').trigger('click');
    await flush();
    expect(api.requestPermission).toHaveBeenCalledTimes(1);
    expect(wrapper.find('[data-testid="desktop-notify-button"]').exists()).toBe(false);
  });

  it('shows a refused permission as a disabled button that says so', async () => {
    const api = stubNotifications('denied');
    const s = await startSession();
    s.socket.serverConnect();
    const wrapper = s.mountInApp(Page);
    await flush();
    const button = wrapper.get('[data-testid="desktop-notify-button"]');
    expect(button.attributes('disabled')).toBeDefined();
    expect(button.attributes('title')).toBe('Desktop notifications are blocked in your browser settings.');
    await button.trigger('click');
    expect(api.requestPermission).not.toHaveBeenCalled();
  });

  it('shows a message from a conversation that is not open; clicking it opens that window', async () => {
    const api = stubNotifications('granted');
    const s = await startSession();
    s.socket.serverConnect();
    const wrapper = s.mountInApp(Page);
    await flush();

    s.socket.serverEmit('chat:message', { message: wire(bob, alice, 'are you around?') });
    await flush();
    expect(api.shown).toHaveLength(1);
    expect(api.shown[0]!.title).toBe('Bob');
    expect(api.shown[0]!.options.body).toBe('are you around?');

    api.shown[0]!.onclick!();
    await flush();
    expect(focus).toHaveBeenCalled();
    expect(wrapper.find(`[data-testid="chat-window"][data-peer-id="${bob.id}"]`).exists()).toBe(true);

    // Now that the window is open on a visible page, the next message needs no notification.
    s.socket.serverEmit('chat:message', { message: wire(bob, alice, 'great') });
    await flush();
    expect(api.shown).toHaveLength(1);
  });
});
