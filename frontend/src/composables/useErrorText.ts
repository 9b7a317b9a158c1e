import { useI18n } from 'vue-i18n';
import { ApiError } from '@/api/http';

/** A message for the user: our own words for the codes we know, else the server's text. */
export function useErrorText() {
  const { t, te } = useI18n();
  return (err: unknown): string => {
    if (!(err instanceof ApiError)) return t('common.error');
    const key = `errors.${err.code}`;
    return te(key) ? t(key) : err.message || t('common.error');
  };
}
