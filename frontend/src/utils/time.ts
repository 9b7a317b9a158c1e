import { ref } from 'vue';

type T = (key: string, named?: Record<string, unknown>) => string;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A clock shared by every relative time on the page, ticking twice a minute. */
export const now = ref(Date.now());
if (typeof window !== 'undefined') setInterval(() => (now.value = Date.now()), 30_000);

/** "just now", "2 min ago" / "2 分钟前", "3 h ago", "yesterday", then a date. */
export function relativeTime(iso: string, nowMs: number, t: T, locale: string): string {
  const diff = Math.max(0, nowMs - Date.parse(iso));
  if (diff < MINUTE) return t('time.justNow');
  if (diff < HOUR) return t('time.minutesAgo', { n: Math.floor(diff / MINUTE) });
  if (diff < DAY) return t('time.hoursAgo', { n: Math.floor(diff / HOUR) });
  if (diff < 7 * DAY) return t('time.daysAgo', { n: Math.floor(diff / DAY) });
  return new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric' }).format(new Date(iso));
}
