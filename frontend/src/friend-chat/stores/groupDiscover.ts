import { defineStore } from 'pinia';
import { ref } from 'vue';
import { groupsApi } from '../api/endpoints';
import type { GroupInfo } from '../wire';
import { useGroupsStore } from './groups';

/** Public groups anyone may find and join, searched by name, paged. */
export const useGroupDiscoverStore = defineStore('friendChatGroupDiscover', () => {
  const groups = useGroupsStore();
  const query = ref('');
  const results = ref<GroupInfo[]>([]);
  const nextCursor = ref<string | null>(null);
  const loading = ref(false);
  const searched = ref(false);
  // A slower earlier search must not overwrite a later one.
  let latest = 0;

  async function search(q: string): Promise<void> {
    const ticket = ++latest;
    query.value = q;
    loading.value = true;
    try {
      const page = await groupsApi.discover(q.trim() || undefined);
      if (ticket !== latest) return;
      groups.remember(page.groups);
      results.value = page.groups;
      nextCursor.value = page.nextCursor;
      searched.value = true;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loading.value) return;
    const ticket = latest;
    loading.value = true;
    try {
      const page = await groupsApi.discover(query.value.trim() || undefined, nextCursor.value);
      if (ticket !== latest) return;
      groups.remember(page.groups);
      const known = new Set(results.value.map((g) => g.id));
      results.value = [...results.value, ...page.groups.filter((g) => !known.has(g.id))];
      nextCursor.value = page.nextCursor;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  function reset(): void {
    latest++;
    query.value = '';
    results.value = [];
    nextCursor.value = null;
    loading.value = false;
    searched.value = false;
  }

  return { query, results, nextCursor, loading, searched, search, loadMore, reset };
});
