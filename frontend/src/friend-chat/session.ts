// A chat session for one user: stores filled, socket open. Started when the host's user appears,
// stopped (everything reset) when the user goes or another one comes.
import type { Pinia } from 'pinia';
import { startRealtime, stopRealtime } from './socket';
import { useComposerStore } from './stores/composer';
import { useConversationsStore } from './stores/conversations';
import { useDeliveryStore } from './stores/delivery';
import { useFriendsStore } from './stores/friends';
import { useGroupDiscoverStore } from './stores/groupDiscover';
import { useGroupsStore } from './stores/groups';
import { useMessagesStore } from './stores/messages';
import { useMutesStore } from './stores/mutes';
import { useNotificationsStore } from './stores/notifications';
import { useOutboxStore } from './stores/outbox';
import { useReadingStore } from './stores/reading';
import { useSearchStore } from './stores/search';
import { useSessionStore } from './stores/session';
import { useTypingStore } from './stores/typing';
import { useUnreadStore } from './stores/unread';
import { useUploadsStore } from './stores/uploads';
import { useWindowsStore } from './stores/windows';
import type { ChatUser, FriendChatOptions } from './types';
import { now } from './utils/time';

/** Where the socket connects: the option, else apiBase's origin when it names one, else this page. */
export function socketUrlOf(options: Pick<FriendChatOptions, 'apiBase' | 'socketUrl'>): string | undefined {
  if (options.socketUrl) return options.socketUrl;
  return /^https?:\/\//i.test(options.apiBase) ? new URL(options.apiBase).origin : undefined;
}

export function startChatSession(pinia: Pinia, user: ChatUser, options: FriendChatOptions): void {
  useSessionStore(pinia).user = user;
  now.value = Date.now(); // the shared clock ticks twice a minute; start it fresh
  useWindowsStore(pinia).restore(user.id);
  useOutboxStore(pinia).restore(user.id);
  useReadingStore(pinia); // its watcher marks what the user sees as read
  startRealtime(pinia, {
    url: socketUrlOf(options),
    getToken: options.getToken,
    onUnauthorized: () => options.onUnauthorized?.(),
    onNotificationClick: (message) => options.onNotificationClick?.(message),
  });
  void useFriendsStore(pinia).load().catch(() => {});
}

export function stopChatSession(pinia: Pinia): void {
  stopRealtime();
  useSessionStore(pinia).user = null;
  for (const store of [
    useComposerStore(pinia),
    useConversationsStore(pinia),
    useDeliveryStore(pinia),
    useFriendsStore(pinia),
    useGroupDiscoverStore(pinia),
    useGroupsStore(pinia),
    useMessagesStore(pinia),
    useMutesStore(pinia),
    useNotificationsStore(pinia),
    useOutboxStore(pinia),
    useReadingStore(pinia),
    useSearchStore(pinia),
    useTypingStore(pinia),
    useUnreadStore(pinia),
    useUploadsStore(pinia),
    useWindowsStore(pinia),
  ]) {
    store.reset();
  }
}
