// POST /api/uploads (DESIGN.md, "Rich messages"): what a file is comes from its bytes; images are
// re-encoded without metadata and thumbnailed; voice is measured; and every bad input of issue 13
// gets a clear error with nothing unsafe stored or served.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import {
  animatedGif,
  getBytes,
  hasGpsTag,
  htmlPage,
  jpeg,
  jpegRotated,
  jpegWithComment,
  jpegWithGps,
  mp3,
  oggOpus,
  png,
  pngBomb,
  pngPolyglot,
  solid,
  svgWithoutXmlDeclaration,
  svgWithScript,
  upload,
  webm,
} from '../helpers/uploads.ts';
import { CHROMIUM_MP4, CHROMIUM_WEBM } from '../helpers/voice-fixtures.ts';

const MAX = 1024 * 1024;

/** Every file under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => path.relative(dir, path.join(d.parentPath, d.name)))
    .sort();
}

describe.each(dbTargets())('POST /api/uploads on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  const up = (bytes: Buffer, opts?: Parameters<typeof upload>[3], token: string | null = alice.token) => upload(s.url, token, bytes, opts);
  /** What is stored: attachment rows and blob files. */
  const stored = async () => ({ rows: await s.app.db.prisma.attachment.count(), files: filesUnder(s.app.config.uploadDir) });

  beforeAll(async () => {
    s = await startServer({ target, config: { uploadMaxBytes: MAX } });
    alice = await s.register();
  });
  afterAll(() => s.close());

  /** Runs `attempt` and checks it stored nothing. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async function refused(attempt: () => Promise<{ status: number; body: any }>, status: number, code: string) {
    const before = await stored();
    const res = await attempt();
    expect(res.status).toBe(status);
    expect(res.body.error?.code).toBe(code);
    expect(await stored()).toEqual(before);
    return res;
  }

  describe('what a file is, from its bytes', () => {
    it('answers an image with the contract shape, re-encoded, with a thumbnail', async () => {
      const res = await up(await png(64, 48), { name: 'photo.png', type: 'image/png' });
      expect(res.status).toBe(201);
      const a = res.body.attachment;
      expect(Object.keys(a).sort()).toEqual(['height', 'id', 'kind', 'mime', 'name', 'size', 'thumbnailUrl', 'url', 'width']);
      expect(a).toMatchObject({ kind: 'image', name: 'photo.png', mime: 'image/png', width: 64, height: 48 });
      expect(a.url).toMatch(new RegExp(`^/api/attachments/${a.id}\\?exp=\\d+&sig=[\\w-]{43}$`));
      expect(a.thumbnailUrl).toMatch(new RegExp(`^/api/attachments/${a.id}/thumbnail\\?exp=\\d+&sig=[\\w-]{43}$`));
      const file = await getBytes(s.url, a.url);
      expect(file.status).toBe(200);
      expect(file.bytes.length).toBe(a.size);
      expect(file.headers.get('content-type')).toBe('image/png');
      expect(file.headers.get('content-disposition')).toMatch(/^inline; filename="photo.png"/);
      expect(await sharp(file.bytes).metadata()).toMatchObject({ format: 'png', width: 64, height: 48 });
    });

    it('ignores the name and the Content-Type the client sent', async () => {
      const res = await up(await png(), { name: 'report.pdf', type: 'application/pdf' });
      expect(res.body.attachment).toMatchObject({ kind: 'image', mime: 'image/png', name: 'report.png' });
      const pdf = await up(Buffer.from('%PDF-1.4\n%âãÏÓ\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'), { name: 'holiday.jpg', type: 'image/jpeg' });
      expect(pdf.body.attachment).toMatchObject({ kind: 'file', mime: 'application/pdf', name: 'holiday.jpg' });
      expect(pdf.body.attachment.thumbnailUrl).toBeUndefined();
      const text = await up(Buffer.from('just some notes\n'), { name: 'notes.txt', type: 'text/plain' });
      expect(text.body.attachment).toMatchObject({ kind: 'file', mime: 'application/octet-stream', name: 'notes.txt', size: 16 });
    });

    it('keeps JPEG, GIF and WebP in their format', async () => {
      for (const [format, mime, bytes] of [
        ['jpeg', 'image/jpeg', await jpeg(40, 30)],
        ['gif', 'image/gif', await solid(40, 30).gif().toBuffer()],
        ['webp', 'image/webp', await solid(40, 30).webp().toBuffer()],
      ] as const) {
        const res = await up(bytes, { name: `x.${format}` });
        expect(res.body.attachment, format).toMatchObject({ kind: 'image', mime, width: 40, height: 30 });
        const file = await getBytes(s.url, res.body.attachment.url);
        expect((await sharp(file.bytes).metadata()).format, format).toBe(format);
      }
      // An animation keeps its frames; width and height are a frame's.
      const anim = await up(await animatedGif(40, 30, 3), { name: 'wave.gif' });
      expect(anim.body.attachment).toMatchObject({ kind: 'image', mime: 'image/gif', width: 40, height: 30 });
      const frames = await sharp((await getBytes(s.url, anim.body.attachment.url)).bytes, { animated: true }).metadata();
      expect([frames.pages, frames.pageHeight]).toEqual([3, 30]);
    });

    it('drops EXIF (the GPS position too) and turns the picture upright first', async () => {
      const input = await jpegWithGps();
      // The fixture does carry a position and a description.
      expect(hasGpsTag((await sharp(input).metadata()).exif)).toBe(true);
      expect(input.includes('SECRET-DESCRIPTION')).toBe(true);
      const res = await up(input, { name: 'where.jpg' });
      const file = await getBytes(s.url, res.body.attachment.url);
      const meta = await sharp(file.bytes).metadata();
      expect(meta.exif).toBeUndefined();
      expect(meta.xmp).toBeUndefined();
      expect(file.bytes.includes('SECRET-DESCRIPTION')).toBe(false);
      expect(file.bytes.includes('SpyCam')).toBe(false);

      const rotated = await up(await jpegRotated(), { name: 'upright.jpg' });
      expect(rotated.body.attachment).toMatchObject({ width: 32, height: 64 });
      const r = await sharp((await getBytes(s.url, rotated.body.attachment.url)).bytes).metadata();
      expect([r.width, r.height, r.orientation]).toEqual([32, 64, undefined]);
    });

    it('makes a WebP thumbnail of at most 320 px, the aspect ratio kept', async () => {
      const res = await up(await solid(1200, 600).png().toBuffer(), { name: 'wide.png' });
      const thumb = await getBytes(s.url, res.body.attachment.thumbnailUrl);
      expect(thumb.status).toBe(200);
      expect(thumb.headers.get('content-type')).toBe('image/webp');
      expect(await sharp(thumb.bytes).metadata()).toMatchObject({ format: 'webp', width: 320, height: 160 });
      // A small image is not enlarged.
      const small = await up(await png(50, 20), { name: 'small.png' });
      expect(await sharp((await getBytes(s.url, small.body.attachment.thumbnailUrl)).bytes).metadata()).toMatchObject({ width: 50, height: 20 });
    });

    it('several images at once, more than a node re-encodes at once (1): each waits its turn and gets its own answer; a file over the limit is refused meanwhile', async () => {
      const bob = await s.register();
      const inputs = await Promise.all([0, 1, 2, 3].map((i) => jpeg(40 + i, 30 + i)));
      const [answers, big] = await Promise.all([
        Promise.all(inputs.map((b, i) => up(b, { name: `p${i}.jpg` }))),
        upload(s.url, bob.token, Buffer.alloc(MAX + 1, 7), { name: 'big.bin' }),
      ]);
      expect(answers.map((a) => [a.status, a.body.attachment?.name, a.body.attachment?.width, a.body.attachment?.height])).toEqual(
        inputs.map((_, i) => [201, `p${i}.jpg`, 40 + i, 30 + i]),
      );
      for (const a of answers) {
        const file = await getBytes(s.url, a.body.attachment.url);
        expect((await sharp(file.bytes).metadata()).width).toBe(a.body.attachment.width);
      }
      expect([big.status, big.body.error?.code]).toEqual([413, 'TOO_LARGE']);
    });

    it('measures voice recordings: WebM and MP4 from Chromium, Ogg/Opus, MP3', async () => {
      const cases = [
        [CHROMIUM_WEBM, 'audio/webm', 'recording.webm', 1400, 1600],
        [CHROMIUM_MP4, 'audio/mp4', 'recording.m4a', 1400, 1600],
        [oggOpus(3), 'audio/ogg', 'recording.ogg', 3000, 3000],
        [mp3(3), 'audio/mpeg', 'recording.mp3', 2990, 3050],
      ] as const;
      for (const [bytes, mime, name, min, max] of cases) {
        const res = await up(bytes, { name: 'recording', type: 'audio/whatever' });
        expect(res.status, mime).toBe(201);
        const a = res.body.attachment;
        expect(Object.keys(a).sort(), mime).toEqual(['durationMs', 'id', 'kind', 'mime', 'name', 'size', 'url']);
        expect(a, mime).toMatchObject({ kind: 'voice', mime, name, size: bytes.length });
        expect(a.durationMs, mime).toBeGreaterThanOrEqual(min);
        expect(a.durationMs, mime).toBeLessThanOrEqual(max);
      }
      // A recorder's WebM: the length is the last frame's time plus one frame.
      const res = await up(webm([0, 20, 61_000, 61_020]), { name: 'long.webm' });
      expect(res.body.attachment).toMatchObject({ kind: 'voice', durationMs: 61_040 });
    });

    it('keeps a video as a file, served as a download', async () => {
      const res = await up(webm([0, 1000], { video: true }), { name: 'clip.webm', type: 'audio/webm' });
      expect(res.body.attachment).toMatchObject({ kind: 'file', mime: 'video/webm', name: 'clip.webm' });
      const file = await getBytes(s.url, res.body.attachment.url);
      expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
    });
  });

  describe('bad input', () => {
    it('no token or a bad one: 401, nothing stored', async () => {
      await refused(() => up(Buffer.from('hi'), {}, null), 401, 'UNAUTHORIZED');
      await refused(() => up(Buffer.from('hi'), {}, 'not-a-token'), 401, 'UNAUTHORIZED');
    });

    it('an empty file: 400', async () => {
      const res = await refused(() => up(Buffer.alloc(0), { name: 'empty.png', type: 'image/png' }), 400, 'VALIDATION');
      expect(res.body.error.message).toMatch(/empty/);
    });

    it('a file over UPLOAD_MAX_BYTES: 413 TOO_LARGE', async () => {
      const res = await refused(() => up(Buffer.alloc(MAX + 1, 7), { name: 'big.bin' }), 413, 'TOO_LARGE');
      // The limit travels in the answer, for the client to check the next file before sending it.
      expect(res.body.error.limit).toEqual({ maxBytes: MAX });
      // Within the limit by a byte less: stored.
      expect((await up(Buffer.alloc(MAX - 1, 7), { name: 'fits.bin' })).status).toBe(201);
    });

    it('not multipart, the wrong field, two files: 400', async () => {
      await refused(() => s.request('POST', '/api/uploads', { token: alice.token, body: { file: 'x' } }), 400, 'VALIDATION');
      const image = await png();
      await refused(() => up(image, { field: 'image' }), 400, 'VALIDATION');
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await png())]), 'a.png');
      form.append('file', new Blob([new Uint8Array(await png())]), 'b.png');
      await refused(async () => {
        const res = await fetch(`${s.url}/api/uploads`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
        return { status: res.status, body: await res.json() };
      }, 400, 'VALIDATION');
    });

    it('a ".png" that is HTML: a file, served as a download that no browser renders', async () => {
      const res = await up(htmlPage(), { name: 'cat.png', type: 'image/png' });
      expect(res.body.attachment).toMatchObject({ kind: 'file', mime: 'application/octet-stream', name: 'cat.png' });
      const file = await getBytes(s.url, res.body.attachment.url);
      expect(file.headers.get('content-type')).toBe('application/octet-stream');
      expect(file.headers.get('content-disposition')).toMatch(/^attachment; filename="cat.png"/);
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
      expect(file.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    });

    it('an SVG with a script: never an image, never served as SVG', async () => {
      for (const svg of [svgWithScript(), svgWithoutXmlDeclaration()]) {
        const res = await up(svg, { name: 'logo.svg', type: 'image/svg+xml' });
        expect(res.body.attachment).toMatchObject({ kind: 'file', mime: 'application/octet-stream', name: 'logo.svg' });
        expect(res.body.attachment.thumbnailUrl).toBeUndefined();
        const file = await getBytes(s.url, res.body.attachment.url);
        expect(file.headers.get('content-type')).toBe('application/octet-stream');
        expect(file.headers.get('content-disposition')).toMatch(/^attachment;/);
        expect(file.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      }
    });

    it('a polyglot (an image that is also HTML): only its pixels are kept', async () => {
      for (const [bytes, name] of [
        [await pngPolyglot(), 'poly.png'],
        [await jpegWithComment(), 'poly.jpg'],
      ] as const) {
        expect(bytes.includes('<script>')).toBe(true);
        const res = await up(bytes, { name, type: 'text/html' });
        expect(res.body.attachment.kind, name).toBe('image');
        const file = await getBytes(s.url, res.body.attachment.url);
        expect(file.bytes.includes('<script>'), name).toBe(false);
        expect(file.bytes.includes('alert'), name).toBe(false);
      }
    });

    it('a decompression bomb (64 megapixels in 60 KB): 413 TOO_LARGE before decoding, nothing stored', async () => {
      const bomb = pngBomb();
      expect(bomb.length).toBeLessThan(MAX);
      const res = await refused(() => up(bomb, { name: 'bomb.png' }), 413, 'TOO_LARGE');
      expect(res.body.error.message).toMatch(/megapixels/);
      expect(res.body.error.limit).toEqual({ maxPixels: 40_000_000 });
    });

    it('a truncated image: 400, nothing stored', async () => {
      const j = await jpeg(200, 200);
      await refused(() => up(j.subarray(0, Math.floor(j.length * 0.6)), { name: 'cut.jpg' }), 400, 'VALIDATION');
      const p = await sharp(await jpeg(200, 200)).png().toBuffer();
      await refused(() => up(p.subarray(0, Math.floor(p.length * 0.6)), { name: 'cut.png' }), 400, 'VALIDATION');
    });

    it('a voice message over 5 minutes: 413; a recording without frames: 400', async () => {
      const long = await refused(() => up(webm([0, 300_500]), { name: 'long.webm' }), 413, 'TOO_LARGE');
      expect(long.body.error.limit).toEqual({ maxDurationMs: 300_000 });
      await refused(() => up(webm([]), { name: 'nothing.webm' }), 400, 'VALIDATION');
    });

    it('a path-traversal or disguised name: cleaned, and never a storage key', async () => {
      const names: [string, string][] = [
        ['../../../etc/passwd', 'passwd'],
        ['..\\..\\windows\\system32\\evil.exe', 'evil.exe'],
        ['.htaccess', 'htaccess'],
        ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
        ['../', 'file.pdf'],
      ];
      for (const [name, clean] of names) {
        const res = await up(Buffer.from('%PDF-1.4 x'), { name });
        expect(res.body.attachment.name, name).toBe(clean);
        expect(res.body.attachment.url).not.toContain(clean);
      }
      // Every blob is under a key made of the upload's id, inside the upload directory.
      for (const f of filesUnder(s.app.config.uploadDir)) expect(f).toMatch(/^att\/[0-9a-f]{2}\/[0-9a-f-]{36}(\.thumb)?$/);
      expect(readdirSync(path.dirname(s.app.config.uploadDir))).not.toContain('passwd');
    });
  });
});
