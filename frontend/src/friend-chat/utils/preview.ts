// One line about a conversation's latest message, for lists: "You: hi", "Bob: hi" in a group,
// "You: [Image] caption" for media, a group event as its sentence.
import type { Translate } from '../i18n';
import type { ChatUser } from '../types';
import { describeGroupEvent } from './groupEvent';
import { messageText } from './media';
import { isGroupEvent, type ThreadWireMessage } from './messageKinds';

export function previewOf(m: ThreadWireMessage, me: string, userById: (id: string) => ChatUser, t: Translate, locale: string): string {
  if (isGroupEvent(m)) return describeGroupEvent(m, me, t, locale);
  const text = messageText(m, t);
  if (m.fromUserId === me) return t('chat.you') + text;
  if (!m.groupId) return text;
  const sender = userById(m.fromUserId);
  return `${sender.displayName || sender.username || t('group.event.someone')}: ${text}`;
}
