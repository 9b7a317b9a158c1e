// What a window's message list shows, row by row: day separators, group events as sentences,
// and messages (consecutive ones of one sender within minutes sit closer; in a group, others'
// messages carry their sender).
import { computed, type Ref } from 'vue';
import { useChatI18n } from '../i18n';
import { useChatStore } from '../stores/chat';
import { useSessionStore } from '../stores/session';
import type { ChatMessage } from '../stores/thread';
import type { ChatUser } from '../types';
import { describeGroupEvent } from '../utils/groupEvent';
import { isGroupEvent } from '../utils/messageKinds';
import { dayKey, dayLabel, now } from '../utils/time';

const GROUP_MS = 5 * 60_000;

export type MessageRow =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'event'; key: string; text: string }
  | { kind: 'message'; key: string; message: ChatMessage; own: boolean; grouped: boolean; sender: ChatUser | null };

export function useMessageRows(rendered: Ref<ChatMessage[]>, inGroup: () => boolean) {
  const { t, locale } = useChatI18n();
  const chat = useChatStore();
  const session = useSessionStore();

  return computed<MessageRow[]>(() => {
    const out: MessageRow[] = [];
    let prev: ChatMessage | undefined;
    for (const m of rendered.value) {
      const day = dayKey(m.createdAt);
      const newDay = !prev || dayKey(prev.createdAt) !== day;
      if (newDay) out.push({ kind: 'day', key: `day:${day}`, label: dayLabel(m.createdAt, now.value, t, locale.value) });
      if (isGroupEvent(m)) {
        out.push({ kind: 'event', key: m.key, text: describeGroupEvent(m, session.userId, t, locale.value) });
      } else {
        const own = m.fromUserId === session.userId;
        const grouped =
          !newDay && !!prev && !isGroupEvent(prev) && prev.fromUserId === m.fromUserId && Date.parse(m.createdAt) - Date.parse(prev.createdAt) < GROUP_MS;
        const sender = inGroup() && !own && m.fromUserId ? chat.userById(m.fromUserId) : null;
        out.push({ kind: 'message', key: m.key, message: m, own, grouped, sender });
      }
      prev = m;
    }
    return out;
  });
}
