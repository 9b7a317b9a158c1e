import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { ChatUser } from '../types';

/** Who the chat runs for: set by the plugin from the host's `currentUser`. */
export const useSessionStore = defineStore('friendChatSession', () => {
  const user = ref<ChatUser | null>(null);
  const userId = computed(() => user.value?.id ?? '');
  return { user, userId };
});
