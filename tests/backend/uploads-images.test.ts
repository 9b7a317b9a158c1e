// Where images are re-encoded (backend/src/uploads/imageProcess.ts): by default in a child
// process at a lower CPU priority (its session's autogroup too), started with the first image,
// gone when idle or closed, and replaced when an image takes too long; in this process when
// asked. At most `concurrency` images at once; the others wait their turn and all complete.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** The session a process belongs to (/proc/<pid>/stat, field 6). */
const sessionOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[3]);
/**
 * The nice value of a process's autogroup (/proc/<pid>/autogroup: "/autogroup-N nice X"), or null
 * where the kernel keeps it in none (the file is then empty: seen in CI for the test's own process).
 */
const autogroupNice = (pid: number | 'self') => {
  const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'utf8'));
  return m ? Number(m[1]) : null;
};

/**
 * A store whose writes of images (not thumbnails) wait until the test lets them go: an image is
 * "in flight" from its first write until its thumbnail is written.
 */
function gatedStore(inner: BlobStore) {
  const held = new Map<string, () => void>();
  const started: string[] = [];
  let inFlight = 0;
  let most = 0;
  const store: BlobStore = {
    ...inner,
    async put(key, data, mime) {
      if (!key.endsWith('.thumb')) {
        inFlight++;
        most = Math.max(most, inFlight);
        started.push(key);
        await new Promise<void>((resolve) => held.set(key, resolve));
      }
      await inner.put(key, data, mime);
      if (key.endsWith('.thumb')) inFlight--;
    },
  };
  return {
    store,
    held,
    started,
    get most() {
      return most;
    },
    /** Lets the oldest held image go on. */
    release() {
      const [key, go] = held.entries().next().value!;
      held.delete(key);
      go();
    },
  };
}

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

  it('works in a child process ten nice steps below this one, in a session (and autogroup) of its own, which stores the results and leaves when idle', async () => {
    // Idle long enough for the child to be read below even on a loaded machine (at 300 ms it once
    // left before its /proc entries were read, and a zombie's autogroup file is empty).
    images = make({ idleMs: 3000 });
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
    expect(sessionOf(pid)).toBe(pid);
    // Where the kernel groups processes by session, the child's group is ten steps lower too.
    // Without an autogroup of its own, this process counts as nice 0, as the processor assumes.
    if (existsSync('/proc/self/autogroup')) {
      const own = autogroupNice('self');
      const child = autogroupNice(pid);
      // A process in an autogroup puts its new session in one too.
      if (own !== null) expect(child).not.toBeNull();
      if (child !== null) expect(child).toBe(Math.min(19, (own ?? 0) + 10));
    }
    await waitUntil(() => !alive(pid), 15_000, 'the idle child to leave');
    expect(images.pid).toBeNull();
    // The next image starts another.
    expect((await images.process(chunked(await png(10, 10)), 'png', keys())).width).toBe(10);
    expect(images.pid).not.toBe(pid);
  }, 90_000); // two children start, each at its low priority: slow on a busy machine

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

  it('re-encodes at most `concurrency` images at once; the others wait their turn, in order, and all complete', async () => {
    const gate = gatedStore(store);
    images = createImageProcessor({ maxPixels: 40e6, concurrency: 2, isolate: false, store: gate.store, storage: { dir } });
    const ks = Array.from({ length: 5 }, keys);
    const inputs = await Promise.all(ks.map((_, i) => png(20 + i, 10)));
    const jobs = ks.map((k, i) => images!.process(chunked(inputs[i]!), 'png', k));
    expect([images.active, images.waiting]).toEqual([2, 3]);
    await waitUntil(() => gate.held.size === 2, 5000, 'two images in flight');
    // One image done → the next in line starts: never more than two at once.
    for (let done = 1; done <= 3; done++) {
      gate.release();
      await waitUntil(() => gate.started.length === 2 + done && gate.held.size === 2, 5000, `image ${2 + done} to start`);
      expect([images.active, images.waiting]).toEqual([2, 3 - done]);
    }
    expect(gate.started.slice(2)).toEqual(ks.slice(2).map((k) => k.file));
    gate.release();
    gate.release();
    const out = await Promise.all(jobs);
    expect(gate.most).toBe(2);
    expect([images.active, images.waiting]).toEqual([0, 0]);
    expect(out.map((o) => o.width)).toEqual([20, 21, 22, 23, 24]);
    for (const [i, k] of ks.entries()) expect((await sharp(readFileSync(path.join(dir, k.file))).metadata()).width).toBe(20 + i);
  });

  it('completes every image of a burst in the child, one at a time, each with its own result', async () => {
    images = make({ concurrency: 1 });
    const ks = Array.from({ length: 6 }, keys);
    const inputs = await Promise.all(ks.map((_, i) => png(30 + i, 15 + i)));
    const jobs = ks.map((k, i) => images!.process(chunked(inputs[i]!), 'png', k));
    expect([images.active, images.waiting]).toEqual([1, 5]);
    const out = await Promise.all(jobs);
    expect(out.map((o) => [o.width, o.height])).toEqual(ks.map((_, i) => [30 + i, 15 + i]));
    for (const [i, k] of ks.entries()) {
      expect((await sharp(readFileSync(path.join(dir, k.file))).metadata()).width).toBe(30 + i);
      expect(readFileSync(path.join(dir, k.thumbnail)).length).toBe(out[i]!.thumbnail.size);
    }
    expect([images.active, images.waiting]).toEqual([0, 0]);
  });

  it('runs in this process when not isolated', async () => {
    images = make({ isolate: false });
    const k = keys();
    expect((await images.process(chunked(await png(30, 20)), 'png', k)).height).toBe(20);
    expect((await sharp(readFileSync(path.join(dir, k.file))).metadata()).height).toBe(20);
    expect(images.pid).toBeNull();
  });
});
