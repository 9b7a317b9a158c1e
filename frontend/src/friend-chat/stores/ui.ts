import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { desktopPermission, requestDesktopPermission, type DesktopPermission } from '../utils/desktop';

/** Page facts the chat reacts to: is the user looking, is the screen narrow, desktop permission. */
export const useUiStore = defineStore('friendChatUi', () => {
  // "Attentive" = the tab is visible and has focus; only then does an open window mark messages read.
  const visible = ref(document.visibilityState !== 'hidden');
  const focused = ref(document.hasFocus());
  const attentive = computed(() => visible.value && focused.value);
  document.addEventListener('visibilitychange', () => (visible.value = document.visibilityState !== 'hidden'));
  window.addEventListener('focus', () => (focused.value = true));
  window.addEventListener('blur', () => (focused.value = false));

  const narrowQuery = window.matchMedia?.('(max-width: 640px)');
  const narrow = ref(narrowQuery?.matches ?? false);
  narrowQuery?.addEventListener?.('change', (e) => (narrow.value = e.matches));

  const permission = ref<DesktopPermission>(desktopPermission());
  /** Must be called from a user gesture (a click), never on load. */
  async function enableDesktopNotifications(): Promise<void> {
    permission.value = await requestDesktopPermission();
  }

  return { visible, focused, attentive, narrow, permission, enableDesktopNotifications };
});
