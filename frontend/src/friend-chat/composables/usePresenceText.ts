import { computed } from 'vue';
import { useFriendsStore } from '../stores/friends';
import { presenceText } from '../utils/presence';

/** "Online", "Last seen 5 min ago" or "Offline" for a friend, live. */
export function usePresenceText(userId: () => string) {
  const friends = useFriendsStore();
  const online = computed(() => friends.isOnline(userId()));
  const text = computed(() => presenceText(friends, userId()));
  return { online, text };
}
