// Where images are re-encoded (backend/src/uploads/imageProcess.ts): by default in a child
// process at a lower CPU priority, started with the first image, gone when idle or closed, and
// replaced when an image takes too long; in this process when asked.
import { getPriority } from 'node:os';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { createImageProcessor, type ImageProcessor } from '../../backend/src/uploads/imageProcess.ts';
import { waitUntil } from '../helpers/chat.ts';
import { jpegWithGps, png, pngBomb } from '../helpers/uploads.ts';

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
  afterEach(async () => {
    await images?.close();
    images = null;
  });

  it('works in a child process ten nice steps below this one, which leaves when idle', async () => {
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: true, idleMs: 300 });
    expect(images.pid).toBeNull();
    const out = await images.process(await jpegWithGps(), 'jpeg');
    expect(out).toMatchObject({ mime: 'image/jpeg', width: 64, height: 32, thumbnail: { mime: 'image/webp' } });
    expect((await sharp(out.data).metadata()).exif).toBeUndefined();
    const pid = images.pid!;
    expect(pid).not.toBe(process.pid);
    expect(getPriority(pid)).toBe(Math.min(19, getPriority() + 10));
    await waitUntil(() => !alive(pid), 5000, 'the idle child to leave');
    expect(images.pid).toBeNull();
    // The next image starts another.
    expect((await images.process(await png(10, 10), 'png')).width).toBe(10);
    expect(images.pid).not.toBe(pid);
  });

  it('answers the client errors from the child: a bomb is TOO_LARGE, garbage is VALIDATION', async () => {
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: true });
    await expect(images.process(pngBomb(), 'png')).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(images.process(Buffer.from('not an image at all'), 'png')).rejects.toMatchObject({ code: 'VALIDATION' });
  });

  it('gives up on an image that takes too long: the answer is VALIDATION and its child is stopped', async () => {
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: true, timeoutMs: 1 });
    const big = await png(2000, 2000);
    const job = images.process(big, 'png');
    const pid = images.pid!;
    expect(pid).toBeGreaterThan(0);
    await expect(job).rejects.toMatchObject({ code: 'VALIDATION', message: /in time/ });
    await waitUntil(() => !alive(pid), 5000, 'the stopped child to exit');
  });

  it('is gone once closed', async () => {
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: true });
    await images.process(await png(), 'png');
    const pid = images.pid!;
    await images.close();
    await waitUntil(() => !alive(pid), 5000, 'the child to exit');
  });

  it('runs in this process when not isolated', async () => {
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 1, isolate: false });
    expect((await images.process(await png(30, 20), 'png')).height).toBe(20);
    expect(images.pid).toBeNull();
  });
});
