// The module's public types (exported from friend-chat/vue).
import type { GlobalThemeOverrides } from 'naive-ui';
import type { MaybeRefOrGetter, VNode } from 'vue';
import type { CustomWireMessage, NotificationWireMessage, PublicUser } from './wire';

/** A user as the chat shows them: the host's id (any string) and public fields. */
export type ChatUser = PublicUser;

export type FriendChatLocale = 'en' | 'zh-CN';

/** What the notification center lists: a built-in system message or a host-defined type. */
export type NotificationMessage = NotificationWireMessage;

/** Something a built-in notification card can link to in the host app. */
export type NotificationSubject = { kind: 'user'; user: ChatUser } | { kind: 'work'; work: { id: string; title: string } };

export interface FriendChatOptions {
  /** Where the module's HTTP API is mounted: '/api' or 'https://chat.example.com/api'. */
  apiBase: string;
  /** Socket.IO server (and namespace); defaults to apiBase's origin, or this page's origin. */
  socketUrl?: string;
  /** Read before every request and every (re)connect, so a refreshed token is picked up. */
  getToken: () => string | null | Promise<string | null>;
  /** The signed-in user; the chat starts when one appears and resets when it goes or changes. */
  currentUser: MaybeRefOrGetter<ChatUser | null>;
  locale?: MaybeRefOrGetter<FriendChatLocale>;
  /** Renders a notification type the module does not know (never a built-in one); nothing returned = a generic card. */
  renderNotification?: (message: CustomWireMessage) => VNode | string | null | undefined;
  /** A desktop notification of a system message was clicked (e.g. go to the notifications page). */
  onNotificationClick?: (message: NotificationMessage) => void;
  /** The server refused the token (HTTP 401 or the socket's "unauthorized"). */
  onUnauthorized?: () => void;
  /** Where a name or a work in a built-in notification links to; none = plain text. */
  linkTo?: (subject: NotificationSubject) => string | null | undefined;
  /** Follows such a link inside a single-page host (e.g. router.push); default: the browser does. */
  navigate?: (href: string) => void;
  /** naive-ui theme overrides for the module's own components, over its defaults. */
  themeOverrides?: GlobalThemeOverrides;
}

/** A friend as useFriendChat().friends lists them. */
export interface FriendChatFriend {
  user: ChatUser;
  online: boolean;
  lastSeenAt: string | null;
  unread: number;
}
