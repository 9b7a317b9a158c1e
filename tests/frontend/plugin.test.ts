// The module as a stranger's app uses it: Pinia and the plugin only (no router, no vue-i18n, no
// global CSS, no provider), through the public entry point friend-chat/vue.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPinia } from 'pinia';
import { createApp, h, ref, type App } from 'vue';
import {
  createFriendChatPlugin,
  FriendChatDock,
  FriendChatNotificationBell,
  FriendChatNotificationList,
  useFriendChat,
  type ChatUser,
  type FriendChatApi,
  type FriendChatOptions,
  type CustomWireMessage,
} from 'friend-chat/vue';
import { useMessagesStore } from '@/friend-chat/stores/messages';
import { useWindowsStore } from '@/friend-chat/stores/windows';
import { setSocketFactory } from '@/friend-chat/socket/client';
import { installFakeHttp, type Handler } from './helpers/fakeHttp';
import { alice, bob, chatRoutes, flush, installFakeSocket, wire } from './helpers/session';

let app: App | null = null;

afterEach(() => {
  app?.unmount();
  app = null;
  setSocketFactory(null);
  vi.unstubAllGlobals();
  localStorage.clear();
  document.body.innerHTML = '';
});

/** A bare host: its root shows the dock, the bell and (optionally) the notification list. */
async function startBareHost(options: Partial<FriendChatOptions> = {}, routes: Record<string, Handler> = {}, { list = false } = {}) {
  const http = installFakeHttp({ ...chatRoutes(), ...routes });
  const socket = installFakeSocket();
  const currentUser = ref<ChatUser | null>(alice);
  const warnings: string[] = [];
  let chat!: FriendChatApi;
  app = createApp({
    setup() {
      chat = useFriendChat();
      return () => h('div', [h(FriendChatNotificationBell), list ? h(FriendChatNotificationList) : null, h(FriendChatDock)]);
    },
  });
  app.config.warnHandler = (msg) => void warnings.push(msg);
  const pinia = createPinia();
  app.use(pinia);
  app.use(createFriendChatPlugin({ apiBase: '/api', getToken: () => 'token-alice', currentUser, ...options }));
  const el = document.createElement('div');
  document.body.appendChild(el);
  app.mount(el);
  await flush();
  return { http, socket, currentUser, warnings, el, pinia, chat: () => chat };
}

const find = (el: Element, testid: string) => [...el.querySelectorAll(`[data-testid="${testid}"]`)];

function notification(messageType: string, content: string, metadata: Record<string, unknown> = {}) {
  return { ...wire(bob, alice, content), fromUserId: null, messageType, metadata };
}

describe('the plugin in a bare host', () => {
  it('opens a chat window through useFriendChat().open, with its own messages and no warning', async () => {
    const host = await startBareHost({}, { 'GET /api/messages/:peerId': () => ({ messages: [wire(bob, alice, 'hi from bob')], nextCursor: null }) });
    host.socket.serverConnect();
    host.chat().open(bob.id);
    await flush();

    const [win] = find(host.el, 'chat-window');
    expect(win?.getAttribute('data-peer-id')).toBe(bob.id);
    expect(win?.textContent).toContain('Bob'); // the friend's name, from the module's own friends list
    expect(find(win!, 'message-bubble').map((b) => b.textContent)).toEqual([expect.stringContaining('hi from bob')]);
    expect(find(win!, 'chat-input')[0]?.getAttribute('placeholder')).toBe('Write a message…');
    expect(host.el.querySelector('.fc-icon-btn')?.getAttribute('aria-label')).toBe('Notifications');
    expect(host.warnings).toEqual([]);
  });

  it('follows the locale it is given', async () => {
    const locale = ref<'en' | 'zh-CN'>('zh-CN');
    const host = await startBareHost({ locale });
    expect(host.el.querySelector('.fc-icon-btn')?.getAttribute('aria-label')).toBe('通知');
    locale.value = 'en';
    await flush();
    expect(host.el.querySelector('.fc-icon-btn')?.getAttribute('aria-label')).toBe('Notifications');
  });

  it('refuses to install before Pinia, saying so', () => {
    const bare = createApp(() => null);
    expect(() => bare.use(createFriendChatPlugin({ apiBase: '/api', getToken: () => null, currentUser: null }))).toThrow(/Pinia/);
  });
});

describe('notification types the module does not know', () => {
  const like = notification('SYSTEM_LIKE', 'Bob liked your work', { workTitle: 'Ink landscape' });
  const follow = notification('SYSTEM_FOLLOW', 'Bob followed you', { follower: bob });
  const routes = { 'GET /api/messages/system/list': () => ({ messages: [like, follow], nextCursor: null }) };
  const item = (el: Element, type: string) => el.querySelector(`[data-testid="notification-item"][data-type="${type}"]`);

  it('render through renderNotification; built-in types keep their cards', async () => {
    const renderNotification = vi.fn((m: CustomWireMessage) =>
      h('span', { class: 'host-like' }, `♥ ${String(m.metadata.workTitle)}`),
    );
    const host = await startBareHost({ renderNotification }, routes, { list: true });

    expect(item(host.el, 'SYSTEM_LIKE')?.querySelector('.host-like')?.textContent).toBe('♥ Ink landscape');
    expect(item(host.el, 'SYSTEM_FOLLOW')?.textContent).toContain('Bob started following you.');
    expect(renderNotification.mock.calls.map(([m]) => m.messageType)).toEqual(['SYSTEM_LIKE']);
  });

  it('render as a generic card with their text and time when the host renders nothing', async () => {
    const host = await startBareHost({}, routes, { list: true });
    const card = item(host.el, 'SYSTEM_LIKE');
    expect(card?.querySelector('.n-text')?.textContent).toBe('Bob liked your work');
    expect(card?.querySelector('time')?.getAttribute('datetime')).toBe(like.createdAt);
  });
});

describe('host-given connection settings', () => {
  it('sends every request to a foreign apiBase with the host token, and connects the socket to its origin', async () => {
    const host = await startBareHost({ apiBase: 'https://chat.example.com/api/', getToken: async () => 'host-token' });
    host.socket.serverConnect();
    host.chat().open(bob);
    await flush();

    expect(host.http.calls.length).toBeGreaterThanOrEqual(3); // friends, unread counts, history
    for (const call of host.http.calls) {
      expect(call.url.startsWith('https://chat.example.com/api/')).toBe(true);
      expect(call.authorization).toBe('Bearer host-token');
    }
    expect(host.http.calls.map((c) => c.path)).toContain(`/api/messages/${bob.id}`);
    expect(host.socket.url).toBe('https://chat.example.com');
  });

  it('reads the token again at every reconnect', async () => {
    let token = 'token-1';
    const getToken = vi.fn(async () => token);
    const host = await startBareHost({ getToken });
    host.socket.serverConnect();
    await flush();
    token = 'token-2'; // the host refreshed its session meanwhile
    host.socket.dropConnection();
    host.socket.serverConnect();
    await flush();
    expect(host.socket.tokens).toEqual(['token-1', 'token-2']);
  });
});

describe('the current user', () => {
  it('going away resets everything the chat held; another user starts afresh', async () => {
    const onUnauthorized = vi.fn();
    const host = await startBareHost({ onUnauthorized });
    host.socket.serverConnect();
    host.chat().open(bob);
    await flush();
    host.socket.serverEmit('chat:message', { message: wire(bob, alice, 'secret for alice') });
    host.socket.serverEmit('unread:update', { total: 1, byPeer: { [bob.id]: 1 }, byGroup: {}, system: 2, muted: { users: [], groups: [] } });
    await flush();
    expect(find(host.el, 'chat-window')).toHaveLength(1);
    expect(find(host.el, 'notification-badge')[0]?.textContent).toBe('2');

    host.currentUser.value = null;
    await flush();
    expect(find(host.el, 'chat-window')).toHaveLength(0);
    expect(find(host.el, 'notification-badge')).toHaveLength(0);
    expect(host.chat().unread).toEqual({ total: 0, system: 0, byPeer: {}, byGroup: {} });
    expect(host.chat().friends).toEqual([]);
    expect(host.chat().user).toBeNull();
    expect(useMessagesStore(host.pinia).threads).toEqual({});
    expect(useWindowsStore(host.pinia).windows).toEqual([]);
    expect(host.socket.connected).toBe(false);
    expect(host.socket.listenerCount('chat:message')).toBe(0);

    // Bob signs in on the same page: nothing of alice's shows.
    host.currentUser.value = bob;
    host.socket.serverConnect();
    await flush();
    expect(host.chat().user?.id).toBe(bob.id);
    expect(find(host.el, 'chat-window')).toHaveLength(0);
    expect(host.el.textContent).not.toContain('secret for alice');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });
});
