import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { friendsApi } from '../api/endpoints';
import type { FriendEntry, PublicUser } from '../wire';

interface Presence {
  online: boolean;
  lastSeenAt: string | null;
}

export const useFriendsStore = defineStore('friendChatFriends', () => {
  const list = ref<FriendEntry[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  // Live presence from `presence:update` / `presence:list`, layered over the HTTP snapshot.
  const presence = ref<Record<string, Presence>>({});

  const isOnline = (userId: string) => presence.value[userId]?.online ?? false;
  const lastSeenAt = (userId: string) => presence.value[userId]?.lastSeenAt ?? null;
  const byId = (userId: string): PublicUser | undefined => list.value.find((f) => f.user.id === userId)?.user;

  /** Online first, then by name. */
  const sorted = computed(() =>
    list.value.slice().sort((a, b) => {
      const d = Number(isOnline(b.user.id)) - Number(isOnline(a.user.id));
      return d || a.user.displayName.localeCompare(b.user.displayName);
    }),
  );
  const onlineCount = computed(() => list.value.filter((f) => isOnline(f.user.id)).length);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const { friends } = await friendsApi.list();
      list.value = friends;
      const next: Record<string, Presence> = {};
      for (const f of friends) next[f.user.id] = { online: f.online, lastSeenAt: f.lastSeenAt };
      presence.value = next;
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  function setPresence(update: { userId: string; online: boolean; lastSeenAt: string | null }): void {
    presence.value = { ...presence.value, [update.userId]: { online: update.online, lastSeenAt: update.lastSeenAt } };
  }

  /** The answer to `presence:list`: exactly these friends are online now. */
  function setOnlineList(online: string[]): void {
    const set = new Set(online);
    const next: Record<string, Presence> = {};
    for (const f of list.value) {
      const was = presence.value[f.user.id];
      next[f.user.id] = { online: set.has(f.user.id), lastSeenAt: was?.lastSeenAt ?? null };
    }
    for (const id of set) next[id] ??= { online: true, lastSeenAt: null };
    presence.value = next;
  }

  function reset(): void {
    list.value = [];
    presence.value = {};
    loaded.value = false;
  }

  return { list, loaded, loading, presence, sorted, onlineCount, isOnline, lastSeenAt, byId, load, setPresence, setOnlineList, reset };
});
