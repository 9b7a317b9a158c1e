// Every server→client listener, registered once per socket — never inside the `connect`
// handler, where each reconnect would add another copy and double every message.
import type { Pinia } from 'pinia';
import { t } from '../i18n';
import { useChatStore } from '../stores/chat';
import { useConversationsStore } from '../stores/conversations';
import { useFriendsStore } from '../stores/friends';
import { useGroupsStore } from '../stores/groups';
import { useLifecycleStore } from '../stores/lifecycle';
import { useMutesStore } from '../stores/mutes';
import { useMessagesStore } from '../stores/messages';
import { useNotificationsStore } from '../stores/notifications';
import { useSessionStore } from '../stores/session';
import { useTypingStore } from '../stores/typing';
import { useUiStore } from '../stores/ui';
import { useUnreadStore } from '../stores/unread';
import { useWindowsStore } from '../stores/windows';
import { showDesktopNotification } from '../utils/desktop';
import { groupKey } from '../utils/conversation';
import { messageText } from '../utils/media';
import { isChatMessage, isNotification, isThreadMessage, type ThreadWireMessage } from '../utils/messageKinds';
import { describeSystem } from '../utils/systemMessage';
import type { GroupChatWireMessage, NotificationWireMessage, ServerToClientEvents } from '../wire';
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
  const groups = useGroupsStore(pinia);
  const lifecycle = useLifecycleStore(pinia);
  const mutes = useMutesStore(pinia);
  const messages = useMessagesStore(pinia);
  const notifications = useNotificationsStore(pinia);
  const session = useSessionStore(pinia);
  const typing = useTypingStore(pinia);
  const ui = useUiStore(pinia);
  const unread = useUnreadStore(pinia);
  const windows = useWindowsStore(pinia);
  const on = <E extends keyof ServerToClientEvents>(event: E, listener: ServerToClientEvents[E]) => socket.on(event, listener);

  function notifyChat(m: Extract<ThreadWireMessage, { messageType: 'CHAT' }>): void {
    if (m.fromUserId === session.userId) return;
    if (m.groupId) return notifyGroup(m);
    const peerId = m.fromUserId;
    if (mutes.isMuted('user', peerId)) return;
    if (ui.attentive && windows.isShown(peerId)) return;
    const user = windows.peer(peerId) ?? conversations.peer(peerId);
    showDesktopNotification({
      title: user?.displayName ?? t('notify.newMessage'),
      body: messageText(m, t),
      tag: `chat:${peerId}`,
      onClick: () => chat.open(user ?? { id: peerId, username: '', displayName: t('notify.someone'), avatarUrl: null }),
    });
  }

  function notifyGroup(m: GroupChatWireMessage): void {
    const group = windows.group(m.groupId);
    // A muted group raises nothing; neither does one the user is looking at.
    if (mutes.isMuted('group', m.groupId) || (ui.attentive && windows.isShown(groupKey(m.groupId)))) return;
    const sender = chat.userById(m.fromUserId).displayName || t('notify.someone');
    showDesktopNotification({
      title: group?.name ?? t('notify.newMessage'),
      body: `${sender}: ${messageText(m, t)}`,
      tag: `chat:group:${m.groupId}`,
      onClick: () => void chat.groupById(m.groupId).then(chat.openGroup, () => {}),
    });
  }

  function notifySystem(m: NotificationWireMessage): void {
    if (ui.attentive && notifications.viewing) return;
    const { keypath, named } = describeSystem(m);
    showDesktopNotification({ title: t('notify.systemTitle'), body: t(keypath, named), tag: m.id, onClick: () => hooks.onNotificationClick(m) });
  }

  on('chat:message', ({ message }) => {
    if (!isThreadMessage(message) || !chat.receive(message) || !isChatMessage(message)) return;
    // The server recounts a member's unread only on reads, joins and mutes: a new group message counts here.
    if (message.groupId && message.fromUserId !== session.userId) unread.addGroupMessage(message.groupId);
    notifyChat(message);
  });
  on('chat:read', (receipt) => messages.applyReadReceipt(receipt));
  on('chat:deleted', (d) => chat.remove(d.messageId, 'groupId' in d ? groupKey(d.groupId) : d.peerId));
  on('chat:delivered', (d) => lifecycle.applyDelivered(d));
  on('chat:edited', ({ message }) => lifecycle.applyEdited(message));
  on('chat:reaction', (r) => lifecycle.applyReaction(r));
  on('chat:typing', ({ from, groupId, typing: on }) => typing.set(groupId ? groupKey(groupId) : from, from, on));
  on('group:update', ({ group }) => groups.applyGroup(group));
  on('group:member', (e) => void groups.applyMemberEvent(e).catch(() => {}));
  on('group:read', ({ groupId, userId, readAt }) => {
    // Another tab of mine read the group; anyone's read position counts in "read by N".
    if (userId === session.userId) unread.clearGroup(groupId);
    groups.applyRead(groupId, userId, readAt);
  });
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
