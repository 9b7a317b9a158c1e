import type { Translate } from '../i18n';

/** A failed group action, in words: the contract's error code when the server gave one. */
export function groupErrorText(err: unknown, t: Translate, te: (key: string) => boolean): string {
  const code = (err as { code?: unknown } | null)?.code;
  const key = `group.errors.${typeof code === 'string' ? code : 'other'}`;
  return te(key) ? t(key) : t('group.errors.other');
}
