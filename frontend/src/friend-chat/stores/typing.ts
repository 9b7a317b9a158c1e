import { defineStore } from 'pinia';
import { ref } from 'vue';
import { signal } from '../socket/client';

const TYPING_TTL_MS = 6_000;

/** Who is typing to me right now, and telling a friend that I am. */
export const useTypingStore = defineStore('friendChatTyping', () => {
  const typing = ref<Record<string, boolean>>({});
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  function set(from: string, on: boolean): void {
    clearTimeout(timers.get(from));
    if (!!typing.value[from] !== on) typing.value = { ...typing.value, [from]: on };
    // A lost "stopped typing" must not leave the indicator on forever.
    if (on) timers.set(from, setTimeout(() => set(from, false), TYPING_TTL_MS));
  }

  const send = (to: string, on: boolean) => signal('chat:typing', { to, typing: on });

  function reset(): void {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    typing.value = {};
  }

  return { typing, set, send, reset };
});
