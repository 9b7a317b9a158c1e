import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { chatApi } from '../api/endpoints';
import type { UnreadCounts } from '../wire';
import { useMutesStore } from './mutes';

type Counts = Pick<UnreadCounts, 'byPeer' | 'byGroup' | 'system'>;

const zero = (): Counts => ({ byPeer: {}, byGroup: {}, system: 0 });
const sum = (counts: Record<string, number>, skip: ReadonlySet<string>) =>
  Object.entries(counts).reduce((n, [id, c]) => (skip.has(id) ? n : n + c), 0);

/**
 * Unread counts as the server reports them (`unread:update` or GET /api/messages/unread/count),
 * plus the group messages that arrive live (the server does not recount every member for each).
 * `total` is chat with friends and groups, muted conversations left out: the server's rule,
 * worked out here so that a mute or a live message changes it at once.
 */
export const useUnreadStore = defineStore('friendChatUnread', () => {
  const mutes = useMutesStore();
  const counts = ref<Counts>(zero());
  const total = computed(() => sum(counts.value.byPeer, mutes.users) + sum(counts.value.byGroup, mutes.groups));
  const system = computed(() => counts.value.system);

  function set(next: UnreadCounts): void {
    counts.value = { byPeer: { ...next.byPeer }, byGroup: { ...next.byGroup }, system: next.system };
    mutes.setAll(next.muted);
  }

  async function refresh(): Promise<void> {
    set(await chatApi.unread());
  }

  const forPeer = (peerId: string): number => counts.value.byPeer[peerId] ?? 0;
  const forGroup = (groupId: string): number => counts.value.byGroup[groupId] ?? 0;

  /** Someone else's message in a group, pushed live. */
  function addGroupMessage(groupId: string): void {
    counts.value = { ...counts.value, byGroup: { ...counts.value.byGroup, [groupId]: forGroup(groupId) + 1 } };
  }

  // Optimistic updates for reads this tab makes; the server's next unread:update is the truth.
  function clearPeer(peerId: string): void {
    if (!forPeer(peerId)) return;
    const { [peerId]: _read, ...byPeer } = counts.value.byPeer;
    counts.value = { ...counts.value, byPeer };
  }

  function clearGroup(groupId: string): void {
    if (!forGroup(groupId)) return;
    const { [groupId]: _read, ...byGroup } = counts.value.byGroup;
    counts.value = { ...counts.value, byGroup };
  }

  function reduceSystem(by: number | 'all'): void {
    const system = by === 'all' ? 0 : Math.max(0, counts.value.system - by);
    counts.value = { ...counts.value, system };
  }

  function reset(): void {
    counts.value = zero();
  }

  return { counts, total, system, set, refresh, forPeer, forGroup, addGroupMessage, clearPeer, clearGroup, reduceSystem, reset };
});
