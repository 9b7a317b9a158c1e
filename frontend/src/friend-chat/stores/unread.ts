import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { chatApi } from '../api/endpoints';
import type { UnreadCounts } from '../wire';

const zero = (): UnreadCounts => ({ total: 0, byPeer: {}, byGroup: {}, system: 0, muted: { users: [], groups: [] } });

/** Unread counts as the server reports them (`unread:update` or GET /api/messages/unread/count). */
export const useUnreadStore = defineStore('friendChatUnread', () => {
  const counts = ref<UnreadCounts>(zero());
  const total = computed(() => counts.value.total);
  const system = computed(() => counts.value.system);

  function set(next: UnreadCounts): void {
    counts.value = {
      total: next.total,
      byPeer: { ...next.byPeer },
      byGroup: { ...next.byGroup },
      system: next.system,
      muted: { users: [...(next.muted?.users ?? [])], groups: [...(next.muted?.groups ?? [])] },
    };
  }

  async function refresh(): Promise<void> {
    set(await chatApi.unread());
  }

  function forPeer(peerId: string): number {
    return counts.value.byPeer[peerId] ?? 0;
  }

  // Optimistic updates for reads this tab makes; the server's next unread:update is the truth.
  function clearPeer(peerId: string): void {
    const n = forPeer(peerId);
    if (!n) return;
    const byPeer = { ...counts.value.byPeer };
    delete byPeer[peerId];
    counts.value = { ...counts.value, byPeer, total: Math.max(0, counts.value.total - n) };
  }

  function reduceSystem(by: number | 'all'): void {
    const system = by === 'all' ? 0 : Math.max(0, counts.value.system - by);
    counts.value = { ...counts.value, system };
  }

  function reset(): void {
    counts.value = zero();
  }

  return { counts, total, system, set, refresh, forPeer, clearPeer, reduceSystem, reset };
});
