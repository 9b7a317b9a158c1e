// Images: re-encoded from their pixels with none of their metadata (no EXIF, so no GPS position),
// turned upright by their EXIF orientation first, and thumbnailed (WebP, at most 320 px). A
// polyglot (an image that is also HTML or a script) keeps only its pixels. Bombs are refused from
// the header, before any pixel is decoded. Where this runs: imageProcess.ts.
import sharp, { type Metadata } from 'sharp';
import { tooLarge, validation } from '../http/errors.ts';
import type { ImageFormat } from './detect.ts';
import type { BlobStore } from './storage/index.ts';

export const THUMBNAIL_PX = 320;

export interface ProcessedImage {
  data: Buffer;
  mime: string;
  ext: string;
  width: number;
  height: number;
  thumbnail: { data: Buffer; mime: string };
}

const OUT: Record<ImageFormat, { mime: string; ext: string }> = {
  jpeg: { mime: 'image/jpeg', ext: 'jpg' },
  png: { mime: 'image/png', ext: 'png' },
  gif: { mime: 'image/gif', ext: 'gif' },
  webp: { mime: 'image/webp', ext: 'webp' },
};

const damaged = () => validation('The image is damaged or truncated and cannot be read');

/** A sharp failure as the answer the client gets: over the pixel limit → 413, anything else → 400. */
function mapSharpError(err: unknown, maxPixels: number): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return tooLarge(`Images may have at most ${maxPixels / 1e6} megapixels`, { maxPixels });
  return damaged();
}

/** Re-encodes one image and makes its thumbnail (on libuv's threads; see imageProcess.ts for where). */
export async function processImage(input: Buffer, format: ImageFormat, maxPixels: number): Promise<ProcessedImage> {
  // Animated GIF and WebP keep their frames (all of them count against the pixel limit).
  const animated = format === 'gif' || format === 'webp';
  // failOn 'warning' (sharp's advice for untrusted input): a truncated or damaged image fails.
  const base = { limitInputPixels: maxPixels, failOn: 'warning' as const, sequentialRead: true };
  let meta: Metadata;
  try {
    meta = await sharp(input, { ...base, animated }).metadata();
  } catch (err) {
    throw mapSharpError(err, maxPixels);
  }
  // libvips reads the format from the bytes as well: it must be the one detected.
  if (meta.format !== format || !meta.width || !meta.height) throw damaged();
  const frameHeight = meta.pageHeight ?? meta.height;
  const frames = animated ? (meta.pages ?? 1) : 1;
  if (meta.width * frameHeight * frames > maxPixels) throw tooLarge(`Images may have at most ${maxPixels / 1e6} megapixels`, { maxPixels });
  const multiFrame = frames > 1;

  try {
    // No withMetadata()/keepMetadata(): sharp writes none of the input's EXIF, XMP, IPTC or ICC.
    let full = sharp(input, { ...base, animated: multiFrame });
    if (!multiFrame) full = full.autoOrient(); // upright by EXIF orientation, which is then dropped
    switch (format) {
      case 'jpeg':
        // No Huffman table optimisation (a second pass): it doubles the encoder's CPU for files
        // about 4% smaller. mozjpeg (trellis quantisation) stays off too: ten times the CPU.
        full = full.jpeg({ quality: 85, optimiseCoding: false, mozjpeg: false });
        break;
      case 'png':
        full = full.png({ compressionLevel: 6 });
        break;
      case 'gif':
        full = full.gif();
        break;
      case 'webp':
        full = full.webp({ quality: 85 });
        break;
    }
    const { data, info } = await full.toBuffer({ resolveWithObject: true });
    const thumb = await sharp(input, { ...base, animated: false })
      .autoOrient()
      .resize(THUMBNAIL_PX, THUMBNAIL_PX, { fit: 'inside', withoutEnlargement: true })
      // effort 2 of 0–6 (default 4): a few hundred bytes more on a 320 px thumbnail, 15% less CPU.
      .webp({ quality: 75, effort: 2 })
      .toBuffer();
    return {
      data,
      ...OUT[format],
      width: info.width,
      height: multiFrame ? (info.pageHeight ?? info.height) : info.height,
      thumbnail: { data: thumb, mime: 'image/webp' },
    };
  } catch (err) {
    throw mapSharpError(err, maxPixels);
  }
}

/** What `storeImage` wrote: the image under `keys.file`, its thumbnail under `keys.thumbnail`. */
export interface StoredImage {
  mime: string;
  ext: string;
  width: number;
  height: number;
  size: number;
  thumbnail: { mime: string; size: number };
}

/**
 * Re-encodes the image and writes it and its thumbnail to the store: the bytes stay where they
 * were made (in the image process, see imageProcess.ts), only their description travels back.
 */
export async function storeImage(
  store: BlobStore,
  keys: { file: string; thumbnail: string },
  input: Buffer,
  format: ImageFormat,
  maxPixels: number,
): Promise<StoredImage> {
  const img = await processImage(input, format, maxPixels);
  try {
    await store.put(keys.file, img.data, img.mime);
    await store.put(keys.thumbnail, img.thumbnail.data, img.thumbnail.mime);
  } catch (err) {
    await store.delete([keys.file, keys.thumbnail]).catch(() => {});
    throw err;
  }
  return {
    mime: img.mime,
    ext: img.ext,
    width: img.width,
    height: img.height,
    size: img.data.length,
    thumbnail: { mime: img.thumbnail.mime, size: img.thumbnail.data.length },
  };
}
