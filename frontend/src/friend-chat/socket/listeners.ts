// Every server→client listener, registered once per socket — never inside the `connect`
// handler, where each reconnect would add another copy and double every message.
import type { Pinia } from 'pinia';
import { t } from '../i18n';
import { useChatStore } from '../stores/chat';
import { useConversationsStore } from '../stores/conversations';
import { useFriendsStore } from '../stores/friends';
import { useMessagesStore } from '../stores/messages';
import { useNotificationsStore } from '../stores/notifications';
import { useSessionStore } from '../stores/session';
import { useTypingStore } from '../stores/typing';
import { useUiStore } from '../stores/ui';
import { useUnreadStore } from '../stores/unread';
import { useWindowsStore } from '../stores/windows';
import { showDesktopNotification } from '../utils/desktop';
import { isChatMessage, isNotification } from '../utils/messageKinds';
import { describeSystem } from '../utils/systemMessage';
import type { ChatWireMessage, NotificationWireMessage, ServerToClientEvents } from '../wire';
import type { SocketLike } from './client';
import { resync } from './resync';

export interface RealtimeHooks {
  /** A desktop notification of a system message was clicked. */
  onNotificationClick: (message: NotificationWireMessage) => void;
}

export function registerListeners(socket: SocketLike, pinia: Pinia, hooks: RealtimeHooks): void {
  const chat = useChatStore(pinia);
  const conversations = useConversationsStore(pinia);
  const friends = useFriendsStore(pinia);
  const messages = useMessagesStore(pinia);
  const notifications = useNotificationsStore(pinia);
  const session = useSessionStore(pinia);
  const typing = useTypingStore(pinia);
  const ui = useUiStore(pinia);
  const unread = useUnreadStore(pinia);
  const windows = useWindowsStore(pinia);
  const on = <E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]) => socket.on(event, listener);

  function notifyChat(m: ChatWireMessage): void {
    const peerId = m.fromUserId;
    if (peerId === session.userId) return;
    if (ui.attentive && windows.isShown(peerId)) return;
    const user = windows.peer(peerId) ?? conversations.peer(peerId);
    showDesktopNotification({
      title: user?.displayName ?? t('notify.newMessage'),
      body: m.content,
      tag: `chat:${peerId}`,
      onClick: () => chat.open(user ?? { id: peerId, username: '', displayName: t('notify.someone'), avatarUrl: null }),
    });
  }

  function notifySystem(m: NotificationWireMessage): void {
    if (ui.attentive && notifications.viewing) return;
    const { keypath, named } = describeSystem(m);
    showDesktopNotification({ title: t('notify.systemTitle'), body: t(keypath, named), tag: m.id, onClick: () => hooks.onNotificationClick(m) });
  }

  on('chat:message', ({ message }) => {
    if (isChatMessage(message) && chat.receive(message)) notifyChat(message);
  });
  on('chat:read', (receipt) => messages.applyReadReceipt(receipt));
  on('chat:deleted', (deleted) => {
    // Group recalls (`groupId`) are for the group windows.
    if ('peerId' in deleted) chat.remove(deleted.messageId, deleted.peerId);
  });
  on('chat:typing', ({ from, typing: on }) => typing.set(from, on));
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
    void resync(pinia, connectedBefore);
    connectedBefore = true;
  });
}
