import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import { dateEnUS, dateZhCN, enUS, zhCN } from 'naive-ui';
import { detectLocale, i18n, LOCALES, type AppLocale } from '@/i18n';
import { load, save } from '@/utils/storage';

/** The demo's language (the chat module follows it through the plugin's `locale`). */
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

  return { locale, naiveLocale, naiveDateLocale, setLocale };
});
