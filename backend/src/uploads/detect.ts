// What an upload is, from its bytes only (DESIGN.md, "Rich messages"): never from its name or the
// Content-Type the client sent. Raster images (JPEG, PNG, GIF, WebP) are re-encoded and shown
// inline; audio in a recording's container is a voice message; everything else is a file,
// always served as a download.
import { fileTypeFromBuffer } from 'file-type';
import type { VoiceContainer } from './voice.ts';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'webp';

export type Sniffed =
  | { kind: 'image'; format: ImageFormat }
  | { kind: 'voice'; container: VoiceContainer; fileMime: string; ext: string }
  | { kind: 'file'; mime: string; ext: string | null };

const IMAGES: Record<string, ImageFormat> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/apng': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** Containers a browser records voice in (the track types inside decide, see voice.ts). */
function voiceContainer(mime: string, ext: string): VoiceContainer | null {
  if (ext === 'webm') return 'webm';
  if (mime === 'audio/mp4' || mime === 'audio/x-m4a' || mime === 'video/mp4' || ext === 'm4a') return 'mp4';
  if (mime.startsWith('audio/ogg') || mime === 'audio/opus' || ext === 'opus' || ext === 'oga' || ext === 'ogg') return 'ogg';
  if (mime === 'audio/mpeg' || ext === 'mp3') return 'mpeg';
  return null;
}

/**
 * Types a browser would render or run if it ever opened one in the page's origin. Stored as
 * `application/octet-stream`: a download either way, and nothing that could be sniffed back.
 */
const ACTIVE = /^(text\/|application\/(xml|xhtml\+xml|javascript|ecmascript|x-shockwave-flash|wasm)|image\/svg)/;

export async function sniff(data: Buffer): Promise<Sniffed> {
  const type = await fileTypeFromBuffer(data);
  if (!type) return { kind: 'file', mime: 'application/octet-stream', ext: null };
  const image = IMAGES[type.mime];
  if (image) return { kind: 'image', format: image };
  const container = voiceContainer(type.mime, type.ext);
  if (container) return { kind: 'voice', container, fileMime: type.mime, ext: type.ext };
  if (ACTIVE.test(type.mime)) return { kind: 'file', mime: 'application/octet-stream', ext: null };
  return { kind: 'file', mime: type.mime, ext: type.ext };
}

/** The mime a voice message is stored and served with. */
export const VOICE_MIME: Record<VoiceContainer, string> = {
  webm: 'audio/webm',
  mp4: 'audio/mp4',
  ogg: 'audio/ogg',
  mpeg: 'audio/mpeg',
};
export const VOICE_EXT: Record<VoiceContainer, string> = { webm: 'webm', mp4: 'm4a', ogg: 'ogg', mpeg: 'mp3' };
