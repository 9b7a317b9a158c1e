import { useChatI18n, userName } from '../i18n';
import { useChatStore } from '../stores/chat';
import { useSessionStore } from '../stores/session';

/** How a quote names who wrote the message: "You", their name, or "Someone" (no sender: ''). */
export function useSenderName(): (userId: string | null) => string {
  const { t } = useChatI18n();
  const chat = useChatStore();
  const session = useSessionStore();
  return (userId) => {
    if (!userId) return '';
    return userId === session.userId ? t('lifecycle.you') : userName(chat.userById(userId)) || t('notify.someone');
  };
}
