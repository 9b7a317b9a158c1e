import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { dateEnUS, dateZhCN, enUS, zhCN } from 'naive-ui';
import { detectLocale, i18n, LOCALES, type AppLocale } from '@/i18n';
import { desktopPermission, requestDesktopPermission, type DesktopPermission } from '@/utils/desktop';
import { load, save } from '@/utils/storage';

/** Page-level state: language, whether the user is looking at the page, desktop permission. */
export const useUiStore = defineStore('ui', () => {
  const stored = load<string | null>('locale', null);
  const locale = ref<AppLocale>(LOCALES.find((l) => l === stored) ?? detectLocale());
  const naiveLocale = computed(() => (locale.value === 'zh-CN' ? zhCN : enUS));
  const naiveDateLocale = computed(() => (locale.value === 'zh-CN' ? dateZhCN : dateEnUS));

  watch(
    locale,
    (l) => {
      i18n.global.locale.value = l;
      document.documentElement.lang = l;
    },
    { immediate: true },
  );

  function setLocale(l: AppLocale): void {
    locale.value = l;
    save('locale', l);
  }

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

  return {
    locale,
    naiveLocale,
    naiveDateLocale,
    setLocale,
    visible,
    focused,
    attentive,
    narrow,
    permission,
    enableDesktopNotifications,
  };
});
