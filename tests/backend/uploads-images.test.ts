// Where images are re-encoded (backend/src/uploads/imageProcess.ts): by default in a child
// process at a lower CPU priority, started with the first image, gone when idle or closed, and
// replaced when an image takes too long; in this process when asked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createImageProcessor, type ImageProcessor, type ImageProcessorOptions } from '../../backend/src/uploads/imageProcess.ts';
import { createDirectoryStore } from '../../backend/src/uploads/storage/directory.ts';
import type { BlobStore } from '../../backend/src/uploads/storage/index.ts';
import type { ReceivedFile } from '../../backend/src/uploads/receive.ts';

/** The bytes in three chunks, as they come off a connection. */
const chunked = (b: Buffer): ReceivedFile => {
  const third = Math.ceil(b.length / 3);
  return { chunks: [b.subarray(0, third), b.subarray(third, 2 * third), b.subarray(2 * third)], size: b.length, filename: undefined };
};
import { waitUntil } from '../helpers/chat.ts';
import { jpegWithGps, png, pngBomb } from '../helpers/uploads.ts';

/** The image workers this process has running. */
const workers = () => {
  try {
    return execFileSync('pgrep', ['-P', String(process.pid), '-f', 'imageWorker'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('the image processor', () => {
  let images: ImageProcessor | null = null;
  const dir = mkdtempSync(path.join(tmpdir(), 'fc-images-'));
  let store: BlobStore;
  beforeAll(async () => {
    store = await createDirectoryStore(dir);
  });
  let n = 0;
  const keys = () => ({ file: `t/${++n}`, thumbnail: `t/${n}.thumb` });
  const make = (o: Partial<ImageProcessorOptions>) =>
    createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: true, store, storage: { dir }, ...o });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await images?.close();
    images = null;
  });

  it('works in a child process ten nice steps below this one, which stores the results and leaves when idle', async () => {
    images = make({ idleMs: 300 });
    expect(images.pid).toBeNull();
    const k = keys();
    const out = await images.process(chunked(await jpegWithGps()), 'jpeg', k);
    expect(out).toMatchObject({ mime: 'image/jpeg', width: 64, height: 32, thumbnail: { mime: 'image/webp' } });
    const stored = readFileSync(path.join(dir, k.file));
    expect(stored.length).toBe(out.size);
    expect((await sharp(stored).metadata()).exif).toBeUndefined();
    expect(readFileSync(path.join(dir, k.thumbnail)).length).toBe(out.thumbnail.size);
    const pid = images.pid!;
    expect(pid).not.toBe(process.pid);
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
    await waitUntil(() => !alive(pid), 5000, 'the idle child to leave');
    expect(images.pid).toBeNull();
    // The next image starts another.
    expect((await images.process(chunked(await png(10, 10)), 'png', keys())).width).toBe(10);
    expect(images.pid).not.toBe(pid);
  });

  it('answers the client errors from the child: a bomb is TOO_LARGE, garbage is VALIDATION', async () => {
    images = make({});
    await expect(images.process(chunked(pngBomb()), 'png', keys())).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(images.process(chunked(Buffer.from('not an image at all')), 'png', keys())).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('gives up on an image that takes too long: the answer is VALIDATION and its child is stopped', async () => {
    images = make({ timeoutMs: 1 });
    const big = await png(2000, 2000);
    await expect(images.process(chunked(big), 'png', keys())).rejects.toMatchObject({ code: 'VALIDATION', message: /in time/ });
    expect(images.pid).toBeNull();
    await waitUntil(() => workers().length === 0, 5000, 'the stopped child to exit');
  });

  it('is gone once closed', async () => {
    images = make({});
    await images.process(chunked(await png()), 'png', keys());
    const pid = images.pid!;
    await images.close();
    await waitUntil(() => !alive(pid), 5000, 'the child to exit');
  });

  it('runs in this process when not isolated', async () => {
    images = make({ isolate: false });
    const k = keys();
    expect((await images.process(chunked(await png(30, 20)), 'png', k)).height).toBe(20);
    expect((await sharp(readFileSync(path.join(dir, k.file))).metadata()).height).toBe(20);
    expect(images.pid).toBeNull();
  });
});
