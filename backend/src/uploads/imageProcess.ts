// Where images are re-encoded. sharp works on libuv's thread pool, off the event loop, but a busy
// image still takes a whole core; on a small machine that core is the chat's. So by default the
// work runs in a child process at a lower CPU priority (nice +10): idle, it runs at full speed;
// when chat needs the CPU, the kernel gives it to chat first. The child writes the results to the
// blob store itself: the upload goes over as a temporary file and only the results' description
// comes back, so no image's bytes load the chat process's garbage collector. It also keeps a native crash or a huge allocation on a
// hostile image away from the chat process. It starts with the first image and leaves after a
// minute without one.
//
// `isolate: false` runs sharp in this process instead (same code, same limits).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { getPriority, setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../http/errors.ts';
import type { ErrorCode } from '../realtime/events.ts';
import type { ImageFormat } from './detect.ts';
import { storeImage, type StoredImage } from './image.ts';
import { createLimiter } from './limiter.ts';
import { joined, type ReceivedFile } from './receive.ts';
import type { BlobStore, StorageOption } from './storage/index.ts';

export type ImageKeys = { file: string; thumbnail: string };

export interface ImageProcessor {
  /** Re-encodes the image and stores it and its thumbnail under `keys`. */
  process(input: ReceivedFile, format: ImageFormat, keys: ImageKeys): Promise<StoredImage>;
  /** The child's process id while one runs (null in-process, or between images). */
  readonly pid: number | null;
  close(): Promise<void>;
}

export interface ImageProcessorOptions {
  maxPixels: number;
  /** Where images go: this store in this process; the child opens its own from `storage`. */
  store: BlobStore;
  storage: StorageOption;
  /** Images processed at once (default 1). */
  concurrency: number;
  /** In a child process at a lower priority (default true). */
  isolate: boolean;
  /** How much lower, in nice steps (default 10). */
  niceness?: number;
  /** An image that takes longer fails (the child is restarted): default 60 s. */
  timeoutMs?: number;
  idleMs?: number;
}

interface Pending {
  /** The child the job went to. */
  owner: ChildProcess;
  resolve(r: StoredImage): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

type Answer = { id: number; ok: true; result: StoredImage } | { id: number; ok: false; code: ErrorCode; message: string; details?: unknown };

/** The worker next to this file: .ts when run from source (through tsx), .js when compiled. */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  return { file: path.join(path.dirname(here), `imageWorker${ext}`), execArgv: ext === '.ts' ? ['--import', 'tsx'] : [] };
}

export function createImageProcessor(opts: ImageProcessorOptions): ImageProcessor {
  const limiter = createLimiter(opts.concurrency);
  if (!opts.isolate) {
    return {
      process: (input, format, keys) => limiter.run(() => storeImage(opts.store, keys, joined(input), format, opts.maxPixels)),
      pid: null,
      close: async () => {},
    };
  }

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const idleMs = opts.idleMs ?? 60_000;
  let child: ChildProcess | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let idleTimer: NodeJS.Timeout | null = null;
  let closed = false;

  /** Fails the jobs of `owner` (every job when null). */
  const fail = (owner: ChildProcess | null, err: Error) => {
    for (const [id, p] of pending) {
      if (owner && p.owner !== owner) continue;
      pending.delete(id);
      clearTimeout(p.timer);
      p.reject(err);
    }
  };

  function start(): ChildProcess {
    const { file, execArgv } = workerEntry();
    const c = fork(file, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    try {
      if (c.pid !== undefined) setPriority(c.pid, Math.min(19, getPriority() + (opts.niceness ?? 10)));
    } catch {
      // Not allowed to change priorities here: it still runs apart.
    }
    c.on('message', (a: Answer) => {
      const p = pending.get(a.id);
      if (!p) return;
      pending.delete(a.id);
      clearTimeout(p.timer);
      if (a.ok) p.resolve(a.result);
      else p.reject(a.code === 'INTERNAL' ? new AppError('INTERNAL', 'Internal error') : new AppError(a.code, a.message, a.details));
    });
    c.on('exit', () => {
      if (child === c) child = null;
      // A crash on this image (or a kill after its timeout): its jobs fail, the next starts a new child.
      fail(c, new AppError('VALIDATION', 'The image could not be processed'));
    });
    c.on('error', () => {});
    c.send({ type: 'init', storage: opts.storage });
    // The child must not keep the host's process alive.
    c.unref();
    c.channel?.unref();
    return c;
  }

  function stop(c: ChildProcess | null) {
    if (!c) return;
    if (c === child) child = null;
    c.kill();
  }

  async function run(input: ReceivedFile, format: ImageFormat, keys: ImageKeys): Promise<StoredImage> {
    if (closed) throw new AppError('UNAVAILABLE', 'Shutting down');
    // The upload goes over as a file the child reads: written chunk by chunk, it costs this
    // process no copy of it (a message would be serialized here, a copy per image).
    const file = path.join(tmpdir(), `friendchat-image-${randomBytes(12).toString('hex')}`);
    await writeFile(file, input.chunks, { mode: 0o600 });
    try {
      return await send(file, format, keys);
    } finally {
      await rm(file, { force: true });
    }
  }

  function send(file: string, format: ImageFormat, keys: ImageKeys): Promise<StoredImage> {
    if (idleTimer) clearTimeout(idleTimer);
    const c = (child ??= start());
    const id = nextId++;
    return new Promise<StoredImage>((resolve, reject) => {
      // An image that never finishes costs the child its life, not the chat its core.
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new AppError('VALIDATION', 'The image could not be processed in time'));
        stop(c);
      }, timeoutMs);
      pending.set(id, { owner: c, resolve, reject, timer });
      c.send({ type: 'job', id, file, format, maxPixels: opts.maxPixels, keys });
    }).finally(() => {
      if (pending.size === 0 && !closed) {
        idleTimer = setTimeout(() => stop(child), idleMs);
        idleTimer.unref();
      }
    });
  }

  return {
    process: (input, format, keys) => limiter.run(() => run(input, format, keys)),
    get pid() {
      return child?.pid ?? null;
    },
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      fail(null, new AppError('UNAVAILABLE', 'Shutting down'));
      stop(child);
    },
  };
}
