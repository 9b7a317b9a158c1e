// The module's state and actions for the host's own pages (title badges, friend lists, a
// notifications page). Returns a reactive object: read `chat.unread.total`, do not destructure.
import { computed, reactive } from 'vue';
import { closedReason, connectionState, reconnect } from '../socket/client';
import { useChatStore } from '../stores/chat';
import { useFriendsStore } from '../stores/friends';
import { useGroupsStore } from '../stores/groups';
import { useNotificationsStore } from '../stores/notifications';
import { useSessionStore } from '../stores/session';
import { useUiStore } from '../stores/ui';
import { useUnreadStore } from '../stores/unread';
import type { ChatUser, FriendChatFriend } from '../types';
import { presenceText } from '../utils/presence';

export function useFriendChat() {
  const chat = useChatStore();
  const friends = useFriendsStore();
  const groups = useGroupsStore();
  const notifications = useNotificationsStore();
  const session = useSessionStore();
  const ui = useUiStore();
  const unread = useUnreadStore();

  return reactive({
    /** The user the chat runs for (the host's `currentUser`), null when signed out. */
    user: computed(() => session.user),
    connected: computed(() => connectionState.value === 'connected'),
    connectionState: computed(() => connectionState.value),
    /** Why the server closed this tab's socket (`too_many_sockets`, `token_expired`, `user_deleted`, or `unauthorized`: a refused token), until it is connected again. */
    closedReason: computed(() => closedReason.value),
    /** Connects again a tab the server closed (connectionState `closed`); after `too_many_sockets` the user's oldest other tab makes way. */
    reconnect: () => reconnect(),
    /**
     * `total` = chat (friends and groups, muted ones left out), `system` = notifications,
     * `byPeer` / `byGroup` = chat per user / per group.
     */
    unread: computed(() => ({ total: unread.total, system: unread.system, byPeer: unread.counts.byPeer, byGroup: unread.counts.byGroup })),

    /** Open (or bring forward) the chat window with a user (by object or id) or a group (`{ groupId }`). */
    open: (target: ChatUser | string | { groupId: string }): Promise<void> => {
      if (typeof target === 'object' && 'groupId' in target) return chat.groupById(target.groupId).then(chat.openGroup);
      chat.open(typeof target === 'string' ? chat.userById(target) : target);
      return Promise.resolve();
    },

    /** My groups, newest activity first, with my role, unread count and mute. */
    groups: computed(() => groups.list),
    groupsLoaded: computed(() => groups.loaded),
    reloadGroups: () => groups.load(),

    /** Friends, online first, with live presence and unread counts. */
    friends: computed<FriendChatFriend[]>(() =>
      friends.sorted.map((f) => ({
        user: f.user,
        online: friends.isOnline(f.user.id),
        lastSeenAt: friends.lastSeenAt(f.user.id),
        unread: unread.forPeer(f.user.id),
      })),
    ),
    friendsLoaded: computed(() => friends.loaded),
    friendsLoading: computed(() => friends.loading),
    onlineCount: computed(() => friends.onlineCount),
    /** Fetch the friends list again (the host changed a friendship). */
    reloadFriends: () => friends.load(),
    /** "Online", "Last seen 5 min ago" or "Offline", in the chat's language. */
    presenceText: (userId: string) => presenceText(friends, userId),

    notifications: reactive({
      items: computed(() => notifications.items),
      loaded: computed(() => notifications.loaded),
      loading: computed(() => notifications.loading),
      hasMore: computed(() => notifications.nextCursor !== null),
      unreadOnly: computed(() => notifications.unreadOnly),
      refresh: () => notifications.refresh(),
      loadMore: () => notifications.loadMore(),
      setUnreadOnly: (value: boolean) => notifications.setUnreadOnly(value),
      markRead: (ids: string[]) => notifications.markRead(ids),
      markAllRead: () => notifications.markAllRead(),
    }),

    desktopNotifications: reactive({
      /** 'default' | 'granted' | 'denied' | 'unsupported' */
      permission: computed(() => ui.permission),
      /** Asks the browser; call it from a click, never on load. */
      enable: () => ui.enableDesktopNotifications(),
    }),
  });
}

export type FriendChatApi = ReturnType<typeof useFriendChat>;
