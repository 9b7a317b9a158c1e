import { onBeforeUnmount } from 'vue';
import { useTypingStore } from '../stores/typing';
import type { ConversationKey } from '../utils/conversation';

const REPEAT_MS = 3_000;
const IDLE_MS = 4_000;

/** Tell the conversation we are typing: at most one signal per few seconds, and "stopped" when idle. */
export function useTypingSignal(key: () => ConversationKey) {
  const typing = useTypingStore();
  let sentAt = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  function stop(): void {
    clearTimeout(idleTimer);
    if (sentAt) typing.send(key(), false);
    sentAt = 0;
  }

  function onInput(): void {
    const now = Date.now();
    if (now - sentAt > REPEAT_MS) {
      typing.send(key(), true);
      sentAt = now;
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, IDLE_MS);
  }

  onBeforeUnmount(stop);
  return { onInput, stop };
}
