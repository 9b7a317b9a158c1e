// Small facts about attachments and locations: sizes and durations as people read them, what a
// chosen file will probably be, whether a signed url has run out, where a map shows a place.
import type { Translate } from '../i18n';
import type { AttachmentKind, MessageKind, WireAttachment, WireLocation } from '../wire';

/** "532 B", "14.2 KB", "3.4 MB" (1 KB = 1024 bytes, as file managers count). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/** `m:ss` ("0:12", "4:05"), as the server's previews write it. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

const RASTER = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/** What a chosen file will show as until the server, which reads its bytes, says what it is. */
export const guessKind = (file: Blob): AttachmentKind => (RASTER.has(file.type) ? 'image' : 'file');

/** Signed urls carry `exp` (unix seconds); true once it has passed. */
export function isExpired(url: string | undefined, nowMs = Date.now()): boolean {
  if (!url) return false;
  const exp = Number(new URL(url, 'http://x').searchParams.get('exp'));
  return Number.isFinite(exp) && exp > 0 && exp * 1000 <= nowMs;
}

/** 48.85840, 2.29450 */
export const formatCoordinates = (l: WireLocation): string => `${l.lat.toFixed(5)}, ${l.lng.toFixed(5)}`;

/** The place on OpenStreetMap, with a marker. */
export const mapUrl = (l: WireLocation): string =>
  `https://www.openstreetmap.org/?mlat=${l.lat.toFixed(6)}&mlon=${l.lng.toFixed(6)}#map=16/${l.lat.toFixed(6)}/${l.lng.toFixed(6)}`;

/**
 * One line for a message where the message itself does not fit (lists, desktop notifications):
 * "[Image]", "[Voice 0:12]", "[File] report.pdf", "[Location]", then the caption; text as it is.
 */
export function messageText(
  m: { kind?: MessageKind; content: string; attachment?: WireAttachment | null; location?: WireLocation | null },
  t: Translate,
): string {
  const caption = m.content.trim();
  let tag: string;
  switch (m.kind) {
    case 'image':
      tag = t('media.preview.image');
      break;
    case 'voice':
      tag = t('media.preview.voice', { duration: formatDuration(m.attachment?.durationMs ?? 0) });
      break;
    case 'file':
      tag = t('media.preview.file', { name: m.attachment?.name ?? '' }).trim();
      break;
    case 'location':
      tag = m.location?.label ? t('media.preview.placeNamed', { label: m.location.label }) : t('media.preview.place');
      break;
    default:
      return m.content;
  }
  return caption ? `${tag} ${caption}` : tag;
}
