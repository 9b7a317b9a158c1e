// The module's own messages and a tiny translate function: no vue-i18n, so a host needs none and
// a host that has one keeps it to itself. Messages only use {name} placeholders.
import { computed, defineComponent, h, shallowRef, toValue, type MaybeRefOrGetter, type VNodeArrayChildren } from 'vue';
import type { FriendChatLocale } from '../types';
import en from './en';
import zhCN from './zh-CN';

const catalogs: Record<FriendChatLocale, typeof en> = { en, 'zh-CN': zhCN };

const source = shallowRef<() => FriendChatLocale>(() => 'en');

/** The host's choice, read live (a ref or a getter follows the host's language switch). */
export function setLocaleSource(locale: MaybeRefOrGetter<FriendChatLocale> | undefined): void {
  source.value = () => toValue(locale) ?? 'en';
}

export const chatLocale = computed<FriendChatLocale>(() => {
  const l = source.value();
  return l in catalogs ? l : 'en';
});

function lookup(catalog: object, key: string): string | undefined {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

const template = (key: string) => lookup(catalogs[chatLocale.value], key) ?? lookup(en, key);

export type Translate = (key: string, named?: Record<string, unknown>) => string;

export const t: Translate = (key, named) =>
  (template(key) ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => (named && name in named ? String(named[name]) : whole));

/**
 * How a user is named: their display name (else username), or "Deleted user" for one the host
 * deleted (flagged by the server, or known by the tombstone id their old messages carry).
 */
export const userName = (user: { id?: string; displayName: string; username?: string; deleted?: true } | null | undefined): string =>
  user?.deleted || user?.id?.startsWith('deleted:') ? t('user.deleted') : user?.displayName || user?.username || '';

/** Whether a message exists for this key. */
export const te = (key: string): boolean => template(key) !== undefined;

export function useChatI18n() {
  return { t, te, locale: chatLocale };
}

/** A message whose placeholders are filled by the slots of the same name (else by `named`). */
export const Translation = defineComponent({
  name: 'FcTranslation',
  props: {
    keypath: { type: String, required: true },
    tag: { type: String, default: 'span' },
    named: { type: Object as () => Record<string, unknown>, default: () => ({}) },
  },
  setup(props, { slots }) {
    return () => {
      const children: VNodeArrayChildren = [];
      const text = template(props.keypath) ?? props.keypath;
      let last = 0;
      for (const m of text.matchAll(/\{(\w+)\}/g)) {
        children.push(text.slice(last, m.index));
        const name = m[1]!;
        const slot = slots[name];
        children.push(slot ? slot() : name in props.named ? String(props.named[name]) : m[0]);
        last = m.index + m[0].length;
      }
      children.push(text.slice(last));
      return h(props.tag, children);
    };
  },
});
