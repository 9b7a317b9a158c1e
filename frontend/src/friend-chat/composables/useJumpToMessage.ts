// A window asked to show a message (a clicked search result): load history back to it (at most
// MAX_PAGES older pages), render it, scroll it to the middle and mark it for a moment.
import { watch, type Ref } from 'vue';
import { useMessagesStore } from '../stores/messages';
import { useSearchStore } from '../stores/search';
import type { ChatMessage } from '../stores/thread';
import type { ConversationKey } from '../utils/conversation';

const MAX_PAGES = 40;
const FLASH_MS = 2000;

export function useJumpToMessage(chatKey: () => ConversationKey, messages: Ref<ChatMessage[]>, reveal: (key: string) => Promise<HTMLElement | null>) {
  const store = useMessagesStore();
  const search = useSearchStore();

  async function jump(messageId: string): Promise<void> {
    const key = chatKey();
    await store.ensureLoaded(key);
    for (let pages = 0; pages < MAX_PAGES && !store.has(key, messageId); pages++) {
      const thread = store.threads[key];
      if (!thread || thread.olderCursor === null) break;
      // A page already on its way (the reader scrolled): wait for it rather than give up.
      if (!(await store.loadOlder(key).catch(() => false))) await new Promise((r) => setTimeout(r, 100));
    }
    const m = messages.value.find((x) => x.id === messageId);
    const row = m ? await reveal(m.key) : null;
    if (!row) return;
    row.classList.add('fc-found');
    setTimeout(() => row.classList.remove('fc-found'), FLASH_MS);
  }

  watch(
    () => search.target,
    (t) => {
      if (!t || t.key !== chatKey()) return;
      void jump(t.messageId)
        .catch(() => {})
        .finally(() => search.done(t.nonce));
    },
    { immediate: true },
  );
}
