// One line that stands for a message where there is no room for the message itself: a
// conversations list, a desktop or push notification, an e-mail digest. English, as the server
// has no locale; a client with its own words (i18n) builds them from `kind` the same way.
// Keep this file free of runtime imports: the frontend may bundle it.
import type { WireAttachment, WireLocation, MessageKind } from './events.ts';

/** `m:ss` (`0:12`, `4:05`). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(total / 60)}:${String(total % 60).padStart(2, '0')}`;
}

/**
 * "[Image]", "[Voice 0:12]", "[File] report.pdf", "[Location] Paris", each followed by the caption
 * when there is one; a text message is its text.
 */
export function messagePreview(m: { kind?: MessageKind; content: string; attachment?: WireAttachment | null; location?: WireLocation | null }): string {
  const caption = m.content.trim();
  const withCaption = (tag: string) => (caption ? `${tag} ${caption}` : tag);
  switch (m.kind) {
    case 'image':
      return withCaption('[Image]');
    case 'voice':
      return withCaption(m.attachment?.durationMs !== undefined ? `[Voice ${formatDuration(m.attachment.durationMs)}]` : '[Voice]');
    case 'file':
      return withCaption(m.attachment ? `[File] ${m.attachment.name}` : '[File]');
    case 'location':
      return withCaption(m.location?.label ? `[Location] ${m.location.label}` : '[Location]');
    default:
      return m.content;
  }
}
