// friend-chat/vue: the chat's front end as a Vue plugin, its components and its composable.
//
//   app.use(createPinia())
//   app.use(createFriendChatPlugin({ apiBase: '/api', getToken, currentUser }))
//   <FriendChatDock /> once in the layout; buttons, badges and lists where the host wants them.
export { createFriendChatPlugin } from './plugin';
export { useFriendChat, type FriendChatApi } from './composables/useFriendChat';
export { default as FriendChatDock } from './components/FriendChatDock.vue';
export { default as FriendChatButton } from './components/FriendChatButton.vue';
export { default as FriendChatUnreadBadge } from './components/FriendChatUnreadBadge.vue';
export { default as FriendChatNotificationBell } from './components/FriendChatNotificationBell.vue';
export { default as FriendChatDesktopNotifyButton } from './components/FriendChatDesktopNotifyButton.vue';
export { default as FriendChatNotificationList } from './components/FriendChatNotificationList.vue';
export { default as FriendChatConversationsMenu } from './components/FriendChatConversationsMenu.vue';
export { default as FriendChatAvatar } from './components/common/UserAvatar.vue';
export { chatTheme as friendChatTheme } from './theme';
export { ApiError, createApiClient, type ApiClient, type ApiClientConfig } from './api/http';
export { default as FriendChatGroupList } from './components/FriendChatGroupList.vue';
export type { ChatUser, FriendChatFriend, FriendChatLocale, FriendChatOptions, NotificationMessage, NotificationSubject } from './types';
export type { ConnectionState } from './socket/client';
export type { DesktopPermission } from './utils/desktop';
export type {
  ChatWireMessage,
  CustomWireMessage,
  GroupInfo,
  GroupListEntry,
  GroupMemberEntry,
  GroupRole,
  GroupVisibility,
  GroupWireMessage,
  NotificationWireMessage,
  SystemMessageType,
  SystemMetadata,
  SystemWireMessage,
  UnreadCounts,
  WireMessage,
} from './wire';
