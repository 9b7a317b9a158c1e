import { computed } from 'vue';
import { useI18n } from 'vue-i18n';
import { useFriendsStore } from '@/stores/friends';
import { now, relativeTime } from '@/utils/time';

/** "Online", "Last seen 5 min ago" or "Offline" for a friend, live. */
export function usePresenceText(userId: () => string) {
  const { t, locale } = useI18n();
  const friends = useFriendsStore();
  const online = computed(() => friends.isOnline(userId()));
  const text = computed(() => {
    if (online.value) return t('chat.online');
    const seen = friends.lastSeenAt(userId());
    return seen ? t('chat.lastSeen', { time: relativeTime(seen, now.value, t, locale.value) }) : t('chat.offline');
  });
  return { online, text };
}
