import { defineStore } from 'pinia';
import { ref } from 'vue';
import { mutesApi } from '../api/endpoints';

type Kind = 'user' | 'group';

/**
 * Muted conversations: still counted on their own, left out of the unread total, no desktop
 * notification. The server's list comes with every unread count; a change here is optimistic.
 */
export const useMutesStore = defineStore('friendChatMutes', () => {
  const users = ref<ReadonlySet<string>>(new Set());
  const groups = ref<ReadonlySet<string>>(new Set());
  const setOf = (kind: Kind) => (kind === 'user' ? users : groups);

  const isMuted = (kind: Kind, id: string): boolean => setOf(kind).value.has(id);

  /** The server's list (`muted` in unread counts). */
  function setAll(muted: { users: string[]; groups: string[] } | undefined): void {
    users.value = new Set(muted?.users ?? []);
    groups.value = new Set(muted?.groups ?? []);
  }

  function mark(kind: Kind, id: string, on: boolean): void {
    const next = new Set(setOf(kind).value);
    if (on) next.add(id);
    else next.delete(id);
    setOf(kind).value = next;
  }

  async function setMuted(kind: Kind, id: string, on: boolean): Promise<void> {
    mark(kind, id, on);
    try {
      await (on ? mutesApi.mute(kind, id) : mutesApi.unmute(kind, id));
    } catch (err) {
      mark(kind, id, !on);
      throw err;
    }
  }

  function reset(): void {
    setAll(undefined);
  }

  return { users, groups, isMuted, setAll, setMuted, reset };
});
