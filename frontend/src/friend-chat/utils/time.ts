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
  return formatDate(iso, locale, { month: 'short', day: 'numeric' });
}

// Building an Intl formatter is costly (toLocale*String builds one per call): keep one per
// locale and options, since a long thread formats thousands of times.
const formatters = new Map<string, Intl.DateTimeFormat>();
export function formatDate(iso: string, locale: string, options: Intl.DateTimeFormatOptions): string {
  const key = locale + JSON.stringify(options);
  let f = formatters.get(key);
  if (!f) formatters.set(key, (f = new Intl.DateTimeFormat(locale, options)));
  return f.format(new Date(iso));
}

const startOfDay = (ms: number) => new Date(ms).setHours(0, 0, 0, 0);

/** Local calendar day of a timestamp, for grouping messages under day separators. */
export const dayKey = (iso: string) => String(startOfDay(Date.parse(iso)));

export function dayLabel(iso: string, nowMs: number, t: T, locale: string): string {
  const days = Math.round((startOfDay(nowMs) - startOfDay(Date.parse(iso))) / DAY);
  if (days === 0) return t('time.today');
  if (days === 1) return t('time.yesterday');
  const sameYear = new Date(iso).getFullYear() === new Date(nowMs).getFullYear();
  return formatDate(iso, locale, { weekday: 'short', month: 'short', day: 'numeric', year: sameYear ? undefined : 'numeric' });
}

export const clockTime = (iso: string, locale: string) => formatDate(iso, locale, { hour: '2-digit', minute: '2-digit' });
export const fullDateTime = (iso: string, locale: string) => formatDate(iso, locale, { dateStyle: 'medium', timeStyle: 'short' });
