import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { notificationsApi } from '../api/endpoints';
import type { NotificationWireMessage as WireMessage } from '../wire';
import { useUnreadStore } from './unread';

const newestFirst = (a: WireMessage, b: WireMessage) =>
  a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1;

/** System messages (the notification center), newest first, paged with `before`. */
export const useNotificationsStore = defineStore('friendChatNotifications', () => {
  const unread = useUnreadStore();
  const items = ref<WireMessage[]>([]);
  const nextCursor = ref<string | null>(null);
  const unreadOnly = ref(false);
  const loaded = ref(false);
  const loading = ref(false);
  // How many notification lists are on screen: a desktop notification would say it twice.
  const viewers = ref(0);
  const viewing = computed(() => viewers.value > 0);

  async function fetchPage(reset: boolean): Promise<void> {
    loading.value = true;
    try {
      const page = await notificationsApi.list(reset ? null : nextCursor.value, unreadOnly.value);
      items.value = reset ? page.messages : mergeNewestFirst(items.value, page.messages, true);
      nextCursor.value = page.nextCursor;
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  const refresh = () => fetchPage(true);
  const loadMore = () => (nextCursor.value && !loading.value ? fetchPage(false) : Promise.resolve());

  function setUnreadOnly(value: boolean): Promise<void> {
    unreadOnly.value = value;
    return refresh();
  }

  /**
   * New system messages (live or from a sync). Only those at least as new as the oldest loaded one
   * are inserted; older ones belong to pages not fetched yet.
   */
  function ingest(messages: WireMessage[]): void {
    if (!loaded.value) return;
    items.value = mergeNewestFirst(items.value, messages.filter((m) => !unreadOnly.value || !m.isRead), nextCursor.value === null);
  }

  function mergeNewestFirst(current: WireMessage[], incoming: WireMessage[], all: boolean): WireMessage[] {
    const known = new Set(current.map((m) => m.id));
    const oldest = current[current.length - 1];
    const fresh = incoming.filter((m) => !known.has(m.id) && (all || !oldest || newestFirst(m, oldest) <= 0));
    return fresh.length ? [...current, ...fresh].sort(newestFirst) : current;
  }

  async function markRead(ids: string[]): Promise<void> {
    const targets = items.value.filter((m) => ids.includes(m.id) && !m.isRead).map((m) => m.id);
    if (!targets.length) return;
    const readAt = new Date().toISOString();
    items.value = items.value.map((m) => (targets.includes(m.id) ? { ...m, isRead: true, readAt } : m));
    unread.reduceSystem(targets.length);
    await notificationsApi.markRead(targets);
  }

  async function markAllRead(): Promise<void> {
    const readAt = new Date().toISOString();
    items.value = items.value.map((m) => (m.isRead ? m : { ...m, isRead: true, readAt }));
    unread.reduceSystem('all');
    await notificationsApi.markAll();
  }

  function reset(): void {
    items.value = [];
    nextCursor.value = null;
    loaded.value = false;
    unreadOnly.value = false;
  }

  return { items, nextCursor, unreadOnly, loaded, loading, viewers, viewing, refresh, loadMore, setUnreadOnly, ingest, markRead, markAllRead, reset };
});
