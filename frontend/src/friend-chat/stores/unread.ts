import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { chatApi } from '../api/endpoints';
import type { UnreadCounts } from '../wire';
import { useGroupsStore } from './groups';

type Counts = UnreadCounts & { byGroup: Record<string, number> };

const zero = (): Counts => ({ total: 0, byPeer: {}, byGroup: {}, system: 0 });

/**
 * Unread counts as the server reports them (`unread:update` or GET /api/messages/unread/count).
 * `total` is the server's: chat with friends and groups, muted conversations left out.
 */
export const useUnreadStore = defineStore('friendChatUnread', () => {
  const groups = useGroupsStore();
  const counts = ref<Counts>(zero());
  const total = computed(() => counts.value.total);
  const system = computed(() => counts.value.system);

  function set(next: UnreadCounts & { byGroup?: Record<string, number> }): void {
    counts.value = { total: next.total, byPeer: { ...next.byPeer }, byGroup: { ...next.byGroup }, system: next.system };
  }

  async function refresh(): Promise<void> {
    set(await chatApi.unread());
  }

  const forPeer = (peerId: string): number => counts.value.byPeer[peerId] ?? 0;
  const forGroup = (groupId: string): number => counts.value.byGroup[groupId] ?? 0;

  // Optimistic updates for reads this tab makes; the server's next unread:update is the truth.
  function clearPeer(peerId: string): void {
    const n = forPeer(peerId);
    if (!n) return;
    const { [peerId]: _read, ...byPeer } = counts.value.byPeer;
    counts.value = { ...counts.value, byPeer, total: Math.max(0, counts.value.total - n) };
  }

  function clearGroup(groupId: string): void {
    const n = forGroup(groupId);
    if (!n) return;
    const { [groupId]: _read, ...byGroup } = counts.value.byGroup;
    // A muted group was never part of the total.
    const total = groups.isMuted(groupId) ? counts.value.total : Math.max(0, counts.value.total - n);
    counts.value = { ...counts.value, byGroup, total };
  }

  function reduceSystem(by: number | 'all'): void {
    const system = by === 'all' ? 0 : Math.max(0, counts.value.system - by);
    counts.value = { ...counts.value, system };
  }

  function reset(): void {
    counts.value = zero();
  }

  return { counts, total, system, set, refresh, forPeer, forGroup, clearPeer, clearGroup, reduceSystem, reset };
});
