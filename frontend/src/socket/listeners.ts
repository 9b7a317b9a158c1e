// Every server→client listener, registered once per socket — never inside the `connect`
// handler, where each reconnect would add another copy and double every message.
import type { ChatWireMessage, NotificationWireMessage, ServerToClientEvents } from '@shared/events';
import { i18n } from '@/i18n';
import { useAuthStore } from '@/stores/auth';
import { useChatStore } from '@/stores/chat';
import { useFriendsStore } from '@/stores/friends';
import { useNotificationsStore } from '@/stores/notifications';
import { useUiStore } from '@/stores/ui';
import { useUnreadStore } from '@/stores/unread';
import { showDesktopNotification } from '@/utils/desktop';
import { isChatMessage, isNotification } from '@/utils/messageKinds';
import { describeSystem } from '@/utils/systemMessage';
import type { SocketLike } from './client';
import { resync } from './resync';

export interface RealtimeHooks {
  onUnauthorized: () => void;
  /** Whether the notification center is on screen, and how to get there. */
  viewingNotifications: () => boolean;
  openNotifications: () => void;
}

export function registerListeners(socket: SocketLike, hooks: RealtimeHooks): void {
  const auth = useAuthStore();
  const chat = useChatStore();
  const friends = useFriendsStore();
  const notifications = useNotificationsStore();
  const ui = useUiStore();
  const unread = useUnreadStore();
  const t = i18n.global.t;
  const on = <E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]) => socket.on(event, listener);

  function notifyChat(m: ChatWireMessage): void {
    const peerId = m.fromUserId;
    if (peerId === auth.user?.id) return;
    if (ui.attentive && chat.isShown(peerId)) return;
    const user = chat.peer(peerId) ?? chat.conversations.find((c) => c.peer.id === peerId)?.peer;
    showDesktopNotification({
      title: user?.displayName ?? t('notify.newMessage'),
      body: m.content,
      tag: `chat:${peerId}`,
      onClick: () => chat.open(user ?? { id: peerId, username: '', displayName: t('notify.someone'), avatarUrl: null }),
    });
  }

  function notifySystem(m: NotificationWireMessage): void {
    if (ui.attentive && hooks.viewingNotifications()) return;
    const { keypath, named } = describeSystem(m);
    showDesktopNotification({ title: t('notify.systemTitle'), body: t(keypath, named), tag: m.id, onClick: hooks.openNotifications });
  }

  on('chat:message', ({ message }) => {
    if (isChatMessage(message) && chat.receive(message)) notifyChat(message);
  });
  on('chat:read', (receipt) => chat.applyReadReceipt(receipt));
  on('chat:deleted', ({ messageId, peerId }) => chat.removeMessage(messageId, peerId));
  on('chat:typing', ({ from, typing }) => chat.setTyping(from, typing));
  on('presence:update', (update) => friends.setPresence(update));
  on('unread:update', (counts) => unread.set(counts));
  on('notification:new', ({ message }) => {
    if (!isNotification(message)) return;
    notifications.ingest([message]);
    notifySystem(message);
    if (message.messageType === 'SYSTEM_FRIEND') void friends.load().catch(() => {});
  });

  let connectedBefore = false;
  socket.on('connect', () => {
    void resync(connectedBefore);
    connectedBefore = true;
  });
}
