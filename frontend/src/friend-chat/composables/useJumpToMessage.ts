// A window asked to show a message (a clicked search result): once its latest page is loaded,
// the window's own jump (useMessageWindow's jumpTo) loads older pages back to it, renders it,
// scrolls it to the middle and marks it for a moment.
import { watch } from 'vue';
import { useMessagesStore } from '../stores/messages';
import { useSearchStore } from '../stores/search';
import type { ConversationKey } from '../utils/conversation';

export function useJumpToMessage(chatKey: () => ConversationKey, jumpTo: (messageId: string) => Promise<boolean>) {
  const store = useMessagesStore();
  const search = useSearchStore();

  watch(
    () => search.target,
    (t) => {
      if (!t || t.key !== chatKey()) return;
      void store
        .ensureLoaded(t.key)
        .then(() => jumpTo(t.messageId))
        .catch(() => {})
        .finally(() => search.done(t.nonce));
    },
    { immediate: true },
  );
}
