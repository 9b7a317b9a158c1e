// Starts the demo's real session wiring (installSession, which installs the chat plugin) against
// a fake socket and a fake HTTP backend, and mounts components with the same Pinia, i18n and a
// memory router.
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { createMemoryHistory, createRouter, type Router } from 'vue-router';
import { createApp, defineComponent, nextTick, type App, type Component } from 'vue';
import { vi } from 'vitest';
import type {
  ChatWireMessage,
  FriendEntry,
  GroupChatWireMessage,
  GroupEventMetadata,
  GroupEventWireMessage,
  GroupInfo,
  GroupListEntry,
  PublicUser,
} from '@shared/events';
import { setSocketFactory } from '@/friend-chat/socket/client';
import { i18n } from '@/i18n';
import { installSession } from '@/session';
import { FakeSocket } from './fakeSocket';
import { installFakeHttp, type Handler } from './fakeHttp';

export const user = (name: string): PublicUser => ({
  id: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`,
  username: name,
  displayName: name[0]!.toUpperCase() + name.slice(1),
  avatarUrl: null,
});
export const alice = user('alice');
export const bob = user('bob');
export const carol = user('carol');
export const dave = user('dave');
export const erin = user('erin');

let seq = 0;
/** A stored message; times increase with each call so order is well defined. */
export function wire(from: PublicUser, to: PublicUser, content: string, extra: Partial<ChatWireMessage> = {}): ChatWireMessage {
  seq += 1;
  return {
    id: `10000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    fromUserId: from.id,
    toUserId: to.id,
    groupId: null,
    messageType: 'CHAT',
    content,
    metadata: {},
    clientId: null,
    isRead: false,
    readAt: null,
    createdAt: new Date(Date.UTC(2030, 0, 1, 12, 0, seq)).toISOString(),
    kind: 'text',
    attachment: null,
    location: null,
    deliveredAt: null,
    editedAt: null,
    deletedAt: null,
    replyTo: null,
    reactions: [],
    ...extra,
  };
}

/** A group alice can see; `n` makes its id. */
export function group(n: number, name: string, extra: Partial<GroupInfo> = {}): GroupInfo {
  return {
    id: `20000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    name,
    avatarUrl: null,
    visibility: 'private',
    ownerId: alice.id,
    memberCount: 3,
    createdAt: new Date(Date.UTC(2030, 0, 1, 11, 0, 0)).toISOString(),
    ...extra,
  };
}

/** The GET /api/groups entry of a group alice is in. */
export const listEntry = (g: GroupInfo, extra: Partial<GroupListEntry> = {}): GroupListEntry => ({
  group: g,
  role: g.ownerId === alice.id ? 'owner' : 'member',
  unread: 0,
  lastMessage: null,
  muted: false,
  ...extra,
});

/** A member's message in a group, stored after everything made before it. */
export function groupWire(from: PublicUser, g: GroupInfo, content: string, extra: Partial<GroupChatWireMessage> = {}): GroupChatWireMessage {
  const base = wire(from, from, content);
  return { ...base, toUserId: null, groupId: g.id, ...extra };
}

/** A GROUP_EVENT notice in a group's timeline. */
export function groupEvent(g: GroupInfo, metadata: GroupEventMetadata): GroupEventWireMessage {
  const base = wire(metadata.actor, metadata.actor, `${metadata.event}`);
  return { ...base, messageType: 'GROUP_EVENT', fromUserId: null, toUserId: null, groupId: g.id, metadata };
}

const friendsOf = (...users: PublicUser[]): FriendEntry[] => users.map((u) => ({ user: u, online: false, lastSeenAt: null, unread: 0 }));

/** What a quiet chat server answers for alice (paths under /api). */
export function chatRoutes(): Record<string, Handler> {
  return {
    'GET /api/friends': () => ({ friends: friendsOf(bob, carol, dave, erin) }),
    'GET /api/messages/unread/count': () => ({ total: 0, byPeer: {}, system: 0 }),
    'GET /api/messages/conversations/list': () => ({ conversations: [] }),
    'GET /api/messages/system/list': () => ({ messages: [], nextCursor: null }),
    'GET /api/messages/:peerId': () => ({ messages: [], nextCursor: null }),
    'GET /api/groups': () => ({ groups: [] }),
  };
}

/** A fake socket handed to the chat module instead of socket.io-client. */
export function installFakeSocket(): FakeSocket {
  const socket = new FakeSocket();
  setSocketFactory((auth, url) => socket.attach(auth, url));
  return socket;
}

const Blank = defineComponent({ render: () => null });
let hostApp: App | null = null;

export interface TestSession {
  pinia: Pinia;
  router: Router;
  socket: FakeSocket;
  http: ReturnType<typeof installFakeHttp>;
  mountInApp: (component: Component, props?: Record<string, unknown>) => ReturnType<typeof mount>;
}

/** Alice is logged in; her friends are bob, carol, dave and erin. The socket is not connected yet. */
export async function startSession(routes: Record<string, Handler> = {}): Promise<TestSession> {
  localStorage.setItem('friend-chat:session', JSON.stringify({ token: 'token-alice', user: alice }));
  // Defaults first so that the more specific paths keep their place; a test's routes override them.
  const http = installFakeHttp({ 'GET /api/me': () => ({ user: alice }), ...chatRoutes(), ...routes });
  const socket = installFakeSocket();
  const pinia = createPinia();
  setActivePinia(pinia);
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/login', name: 'login', component: Blank, meta: { guest: true } },
      { path: '/notifications', name: 'notifications', component: Blank },
      { path: '/:rest(.*)*', name: 'any', component: Blank },
    ],
  });
  await router.push('/');
  // The demo app as main.ts builds it (its root renders nothing here; tests mount what they need).
  hostApp = createApp(Blank).use(pinia).use(i18n).use(router);
  installSession(hostApp, router);
  hostApp.mount(document.createElement('div'));
  await flush();
  const mountInApp = (component: Component, props: Record<string, unknown> = {}) =>
    mount(component, { props, attachTo: document.body, global: { plugins: [pinia, i18n, router] } });
  return { pinia, router, socket, http, mountInApp };
}

export function endSession(): void {
  // Unmounting the last app that installed the chat plugin stops its session and socket.
  hostApp?.unmount();
  hostApp = null;
  setSocketFactory(null);
  vi.unstubAllGlobals();
  vi.useRealTimers();
  localStorage.clear();
  document.body.innerHTML = '';
}

/** Let promises, fetches and Vue's render queue settle. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 0));
    await nextTick();
  }
}
