import { defineStore } from 'pinia';
import { ref } from 'vue';
import { signal } from '../socket/client';
import { groupIdOf, type ConversationKey } from '../utils/conversation';

const TYPING_TTL_MS = 6_000;

/** Who is typing to me right now (per conversation: a friend, or members of a group), and telling others that I am. */
export const useTypingStore = defineStore('friendChatTyping', () => {
  /** The users typing in each conversation, in the order they started. */
  const typers = ref<Record<ConversationKey, string[]>>({});
  const timers = new Map<string, ReturnType<typeof setTimeout>>();

  function set(key: ConversationKey, from: string, on: boolean): void {
    const timer = `${key}\n${from}`;
    clearTimeout(timers.get(timer));
    const now = typers.value[key] ?? [];
    if (now.includes(from) !== on) typers.value = { ...typers.value, [key]: on ? [...now, from] : now.filter((u) => u !== from) };
    // A lost "stopped typing" must not leave the indicator on forever.
    if (on) timers.set(timer, setTimeout(() => set(key, from, false), TYPING_TTL_MS));
    else timers.delete(timer);
  }

  const of = (key: ConversationKey): string[] => typers.value[key] ?? [];
  const isTyping = (key: ConversationKey): boolean => of(key).length > 0;

  function send(key: ConversationKey, on: boolean): void {
    const groupId = groupIdOf(key);
    if (groupId) signal('chat:typing', { groupId, typing: on });
    else signal('chat:typing', { to: key, typing: on });
  }

  function reset(): void {
    for (const timer of timers.values()) clearTimeout(timer);
    timers.clear();
    typers.value = {};
  }

  return { typers, of, isTyping, set, send, reset };
});
