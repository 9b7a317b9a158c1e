import { createI18n } from 'vue-i18n';
import en from './en';
import zhCN from './zh-CN';

export const LOCALES = ['en', 'zh-CN'] as const;
export type AppLocale = (typeof LOCALES)[number];

/** The browser's preferred language decides: Chinese of any region → zh-CN, anything else → en. */
export function detectLocale(language = typeof navigator === 'undefined' ? '' : navigator.language): AppLocale {
  return language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

export const i18n = createI18n({
  legacy: false,
  locale: 'en' as AppLocale,
  fallbackLocale: 'en',
  messages: { en, 'zh-CN': zhCN },
});
