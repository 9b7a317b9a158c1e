import { t, chatLocale } from '../i18n';
import { now, relativeTime } from './time';

/** "Online", "Last seen 5 min ago" or "Offline" (reactive when read in a render or computed). */
export function presenceText(friends: { isOnline(id: string): boolean; lastSeenAt(id: string): string | null }, userId: string): string {
  if (friends.isOnline(userId)) return t('chat.online');
  const seen = friends.lastSeenAt(userId);
  return seen ? t('chat.lastSeen', { time: relativeTime(seen, now.value, t, chatLocale.value) }) : t('chat.offline');
}
