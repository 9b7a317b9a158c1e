// One search box's state: the query, its results page by page, and answers that arrive out of
// order (a slow answer to an older query is dropped).
import { computed, onBeforeUnmount, ref, watch } from 'vue';
import { searchApi, type SearchResult } from '../api/search';

const DEBOUNCE_MS = 250;
/** The server's limit on `q` (docs/protocol.md). */
export const MAX_QUERY = 100;

export function useMessageSearch(scope: () => { peerId?: string; groupId?: string }) {
  const query = ref('');
  const results = ref<SearchResult[]>([]);
  const nextCursor = ref<string | null>(null);
  const loading = ref(false);
  const failed = ref(false);
  /** The trimmed query the results answer. */
  const shown = ref('');
  const active = computed(() => query.value.trim().length > 0);
  let generation = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function fetchPage(q: string, before: string | null): Promise<void> {
    const gen = ++generation;
    loading.value = true;
    failed.value = false;
    try {
      const page = await searchApi.search({ q, ...scope(), before, limit: 20 });
      if (gen !== generation) return;
      results.value = before ? [...results.value, ...page.results] : page.results;
      nextCursor.value = page.nextCursor;
      shown.value = q;
    } catch {
      if (gen === generation) failed.value = true;
    } finally {
      if (gen === generation) loading.value = false;
    }
  }

  /** Searches now (Enter), or after a pause in typing. */
  function run(now = false): void {
    clearTimeout(timer);
    const q = query.value.trim().slice(0, MAX_QUERY);
    if (!q) {
      generation++;
      results.value = [];
      nextCursor.value = null;
      loading.value = false;
      shown.value = '';
      return;
    }
    if (now) void fetchPage(q, null);
    else timer = setTimeout(() => void fetchPage(q, null), DEBOUNCE_MS);
  }

  function more(): void {
    if (nextCursor.value && !loading.value) void fetchPage(shown.value, nextCursor.value);
  }

  watch(query, () => run());
  onBeforeUnmount(() => clearTimeout(timer));

  return { query, results, nextCursor, loading, failed, shown, active, run, more };
}
