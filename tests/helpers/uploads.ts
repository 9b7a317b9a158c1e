// Upload fixtures, made in code (sharp draws the images; the containers are written byte by
// byte), and small helpers to upload and fetch through a real server.
import { deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

// --- images ----------------------------------------------------------------------------------

/** A noisy RGB image (noise does not compress: file sizes stay near width × height × 3 / ratio). */
export function noise(width: number, height: number): Sharp {
  const raw = Buffer.alloc(width * height * 3);
  let x = 0x12345678;
  for (let i = 0; i < raw.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    raw[i] = x & 0xff;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } });
}

export const solid = (width: number, height: number, color = '#c83232') =>
  sharp({ create: { width, height, channels: 3, background: color } });

export const png = (width = 64, height = 48) => solid(width, height).png().toBuffer();
export const jpeg = (width = 64, height = 48) => noise(width, height).jpeg({ quality: 90 }).toBuffer();

/** An animated GIF: `frames` frames of `width` × `height`, each a different grey. */
export function animatedGif(width = 40, height = 30, frames = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * frames * 3);
  for (let f = 0; f < frames; f++) raw.fill(f * 80, f * width * height * 3, (f + 1) * width * height * 3);
  return sharp(raw, { raw: { width, height: height * frames, channels: 3, pageHeight: height } }).gif().toBuffer();
}

/** A JPEG that says where it was taken (EXIF GPS) and by what camera. */
export const jpegWithGps = () =>
  solid(64, 32)
    .jpeg()
    .withExif({
      IFD0: { Make: 'SpyCam', ImageDescription: 'SECRET-DESCRIPTION' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 300/100' },
    })
    .toBuffer();

/** A 64×32 JPEG whose EXIF says "rotate 90° clockwise to show" (a phone held upright). */
export const jpegRotated = () => solid(64, 32, '#3232c8').jpeg().withMetadata({ orientation: 6 }).toBuffer();

/** The EXIF GPS pointer tag (0x8825, little endian, type LONG) as sharp writes it. */
export const hasGpsTag = (exif: Buffer | undefined) => !!exif && exif.includes(Buffer.from([0x25, 0x88, 0x04, 0x00]));

const CRC_TABLE = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
function crc32(buf: Buffer): number {
  let c = -1;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A decompression bomb: a complete, valid grey PNG of `side` × `side` pixels (64 megapixels by
 * default, 64 MB once decoded, more as RGB) that is about 60 KB on disk.
 */
export function pngBomb(side = 8000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0);
  ihdr.writeUInt32BE(side, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = Buffer.alloc((side + 1) * side); // each row: filter byte 0, then zeros
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(rows, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export const SCRIPT = '<script>alert(document.cookie)</script>';

/** A PNG that is also an HTML page: a text chunk and a trailer after IEND carry a script. */
export async function pngPolyglot(): Promise<Buffer> {
  const base = await png(32, 32);
  const iend = base.length - 12;
  return Buffer.concat([
    base.subarray(0, iend),
    pngChunk('tEXt', Buffer.from(`Comment\0<html>${SCRIPT}</html>`, 'latin1')),
    base.subarray(iend),
    Buffer.from(`<html><body>${SCRIPT}</body></html>`),
  ]);
}

/** A JPEG carrying a script in a comment (COM) segment. */
export async function jpegWithComment(): Promise<Buffer> {
  const base = await jpeg(32, 32);
  const text = Buffer.from(`<html>${SCRIPT}</html>`);
  const com = Buffer.alloc(4);
  com.writeUInt16BE(0xfffe, 0);
  com.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([base.subarray(0, 2), com, text, base.subarray(2)]);
}

export const svgWithScript = () =>
  Buffer.from(`<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">${SCRIPT}<rect width="10" height="10"/></svg>`);
export const svgWithoutXmlDeclaration = () => Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">${SCRIPT}</svg>`);
export const htmlPage = () => Buffer.from(`<!doctype html><html><body>${SCRIPT}</body></html>`);

// --- audio -----------------------------------------------------------------------------------

/** MPEG-1 Layer III frames, 128 kbit/s, 44.1 kHz (silence; nothing decodes them). */
export function mp3(seconds: number): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return Buffer.concat(Array.from({ length: Math.ceil((seconds * 44100) / 1152) }, () => frame));
}

const OGG_CRC = new Uint32Array(256).map((_, n) => {
  let c = n << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  return c >>> 0;
});
function oggPage(seq: number, granule: bigint, flags: number, payload: Buffer): Buffer {
  const segments: number[] = [];
  let n = payload.length;
  for (; n >= 255; n -= 255) segments.push(255);
  segments.push(n);
  const head = Buffer.alloc(27 + segments.length);
  head.write('OggS', 0, 'latin1');
  head[5] = flags;
  head.writeBigInt64LE(granule, 6);
  head.writeUInt32LE(0x1234, 14);
  head.writeUInt32LE(seq, 18);
  head[26] = segments.length;
  head.set(segments, 27);
  const page = Buffer.concat([head, payload]);
  let c = 0;
  for (const b of page) c = ((c << 8) ^ OGG_CRC[((c >>> 24) ^ b) & 0xff]!) >>> 0;
  page.writeUInt32LE(c, 22);
  return page;
}

/** Ogg/Opus as Firefox records it: headers, then a page a second (granule positions count 48 kHz samples). */
export function oggOpus(seconds: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48000, 12);
  const tags = Buffer.alloc(16);
  tags.write('OpusTags', 0, 'latin1');
  const pages = [oggPage(0, 0n, 2, head), oggPage(1, 0n, 0, tags)];
  for (let s = 1; s <= seconds; s++) pages.push(oggPage(1 + s, BigInt(312 + s * 48000), s === seconds ? 4 : 0, Buffer.from([0xfc, 0xff, 0xfe])));
  return Buffer.concat(pages);
}

const vint = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n) | (1n << 56n));
  return b;
};
const ebml = (id: number[], ...children: Buffer[]) => {
  const data = Buffer.concat(children);
  return Buffer.concat([Buffer.from(id), vint(data.length), data]);
};
const UNKNOWN = Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const uintEl = (id: number[], v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return ebml(id, b);
};

/**
 * A WebM written as a live recorder writes it (Segment and Clusters of unknown size, no
 * Duration): one track (`video` adds a video track), a frame at each of `frameTimesMs`, each
 * cluster starting at the frame's time.
 */
export function webm(frameTimesMs: number[], opts: { video?: boolean } = {}): Buffer {
  const track = (n: number, type: number, codec: string) =>
    ebml([0xae], uintEl([0xd7], n), uintEl([0x83], type), ebml([0x86], Buffer.from(codec)));
  const clusters = frameTimesMs.map((t) =>
    Buffer.concat([Buffer.from([0x1f, 0x43, 0xb6, 0x75]), UNKNOWN, uintEl([0xe7], t), ebml([0xa3], Buffer.from([0x81, 0x00, 0x00, 0x80, 0xfc, 0xff, 0xfe]))]),
  );
  return Buffer.concat([
    ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], Buffer.from('webm'))),
    Buffer.from([0x18, 0x53, 0x80, 0x67]),
    UNKNOWN,
    ebml([0x15, 0x49, 0xa9, 0x66], uintEl([0x2a, 0xd7, 0xb1], 1_000_000)),
    ebml([0x16, 0x54, 0xae, 0x6b], track(1, 2, 'A_OPUS'), ...(opts.video ? [track(2, 1, 'V_VP8')] : [])),
    ...clusters,
  ]);
}

// --- HTTP ------------------------------------------------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Answer = { status: number; body: any; headers: Headers };

/** POST /api/uploads with `bytes` as the multipart field `field` (default `file`). */
export async function upload(
  baseUrl: string,
  token: string | null,
  bytes: Buffer,
  opts: { name?: string; type?: string; field?: string } = {},
): Promise<Answer> {
  const form = new FormData();
  form.append(opts.field ?? 'file', new Blob([new Uint8Array(bytes)], { type: opts.type ?? 'application/octet-stream' }), opts.name ?? 'file.bin');
  const res = await fetch(`${baseUrl}/api/uploads`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {}, body: form });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body, headers: res.headers };
}

/** GET a url (absolute, or a path on `baseUrl`): status, headers and the bytes. */
export async function getBytes(baseUrl: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
  const res = await fetch(new URL(url, baseUrl), { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}
