// Where images are re-encoded. sharp works on libuv's thread pool, off the event loop, but a busy
// image still takes a whole core; on a small machine that core is the chat's (and its database's).
// So the CPU images may take on a node is bounded, and what they take yields to chat:
//
// - At most `concurrency` images (default 1) are re-encoded at once, each on one libvips thread
//   (imageWorker.ts): at most that many cores, however many uploads arrive. The others wait here,
//   in order, as received files; their bodies were read to the end (or refused at the size limit)
//   before they queue, so a slow queue never holds a connection's reading. The queue is bounded
//   by the uploads a node receives at once (`maxConcurrent`, routes.ts: 503 beyond).
// - By default the work runs in a child process at a lower CPU priority (nice +10): idle, it runs
//   at full speed; when chat needs the CPU, the kernel gives it to chat first. The child is the
//   leader of a session of its own whose autogroup gets the same lower priority: where the kernel
//   groups processes by session (autogroup, the default of many distributions), a nice value
//   counts only against the processes of its own session: without a group of its own, the child's
//   lower priority would hold against the chat process but hardly against the database's backends.
//
// The child writes the results to the blob store itself: the upload goes over as a temporary file
// and only the results' description comes back, so no image's bytes load the chat process's
// garbage collector. It also keeps a native crash or a huge allocation on a hostile image away
// from the chat process. It starts with the first image and leaves after a minute without one
// (or as soon as the chat process goes: it watches the IPC channel).
//
// `isolate: false` runs sharp in this process instead (same code, same limits and queue; sharp's
// thread and cache settings are then the host's).
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
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
  /** Images being re-encoded now (at most `concurrency`). */
  readonly active: number;
  /** Images waiting for their turn. */
  readonly waiting: number;
  close(): Promise<void>;
}

export interface ImageProcessorOptions {
  maxPixels: number;
  /** Where images go: this store in this process; the child opens its own from `storage`. */
  store: BlobStore;
  storage: StorageOption;
  /** Images processed at once (default 1), each on one thread: the cores images may take. */
  concurrency: number;
  /** In a child process at a lower priority (default true). */
  isolate: boolean;
  /** How much lower, in nice steps, the child and its session's autogroup (default 10). */
  niceness?: number;
  /**
   * An image that takes longer fails (the child is restarted): default 60 s, counted from when its
   * child is up (a child starting at a low priority on a busy machine is not the image's fault).
   */
  timeoutMs?: number;
  idleMs?: number;
}

interface Pending {
  /** The child the job went to. */
  owner: ChildProcess;
  resolve(r: StoredImage): void;
  reject(e: Error): void;
  /** Set once the child is up (see `timeoutMs`). */
  timer: NodeJS.Timeout | null;
  /** Starts the job's timer. */
  arm(): void;
}

type Answer =
  | { id: number; ok: true; result: StoredImage }
  | { id: number; ok: false; code: ErrorCode; message: string; details?: unknown }
  /** The child has loaded its code and takes jobs. */
  | { type: 'ready' };

/** The worker next to this file: .ts when run from source (through tsx), .js when compiled. */
function workerEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  return { file: path.join(path.dirname(here), `imageWorker${ext}`), execArgv: ext === '.ts' ? ['--import', 'tsx'] : [] };
}

const AUTOGROUP = /\bnice\s+(-?\d+)/;

/**
 * Lowers the CPU priority of the child `pid`, a session leader: its nice value, and its session's
 * autogroup's where the kernel has them (/proc/<pid>/autogroup), `steps` below this process's.
 * Raising a nice value needs no privilege; where it is not allowed anyway, the child still runs
 * apart.
 */
function lowerPriority(pid: number, steps: number): void {
  try {
    setPriority(pid, Math.min(19, getPriority() + steps));
  } catch {
    // Not allowed to change priorities here.
  }
  try {
    const own = Number(AUTOGROUP.exec(readFileSync('/proc/self/autogroup', 'utf8'))?.[1] ?? 0);
    writeFileSync(`/proc/${pid}/autogroup`, String(Math.min(19, own + steps)));
  } catch {
    // No autogroups (not Linux, or a kernel without them): the nice value is all there is.
  }
}

export function createImageProcessor(opts: ImageProcessorOptions): ImageProcessor {
  const limiter = createLimiter(opts.concurrency);
  if (!opts.isolate) {
    return {
      process: (input, format, keys) => limiter.run(() => storeImage(opts.store, keys, joined(input), format, opts.maxPixels)),
      pid: null,
      get active() {
        return limiter.active;
      },
      get waiting() {
        return limiter.waiting;
      },
      close: async () => {},
    };
  }

  const timeoutMs = opts.timeoutMs ?? 60_000;
  const idleMs = opts.idleMs ?? 60_000;
  let child: ChildProcess | null = null;
  let nextId = 1;
  const pending = new Map<number, Pending>();
  const up = new WeakSet<ChildProcess>();
  let idleTimer: NodeJS.Timeout | null = null;
  let closed = false;

  /** Fails the jobs of `owner` (every job when null). */
  const fail = (owner: ChildProcess | null, err: Error) => {
    for (const [id, p] of pending) {
      if (owner && p.owner !== owner) continue;
      pending.delete(id);
      if (p.timer) clearTimeout(p.timer);
      p.reject(err);
    }
  };

  function start(): ChildProcess {
    const { file, execArgv } = workerEntry();
    // detached (setsid): a session, and so an autogroup, of its own (Linux; see lowerPriority).
    const detached = process.platform === 'linux';
    const c = fork(file, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'ignore', 'inherit', 'ipc'], detached });
    if (c.pid !== undefined) lowerPriority(c.pid, opts.niceness ?? 10);
    c.on('message', (a: Answer) => {
      if ('type' in a) {
        up.add(c);
        for (const p of pending.values()) if (p.owner === c) p.arm();
        return;
      }
      const p = pending.get(a.id);
      if (!p) return;
      pending.delete(a.id);
      if (p.timer) clearTimeout(p.timer);
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
      const p: Pending = {
        owner: c,
        resolve,
        reject,
        timer: null,
        // An image that never finishes costs the child its life, not the chat its core.
        arm: () => {
          p.timer ??= setTimeout(() => {
            pending.delete(id);
            reject(new AppError('VALIDATION', 'The image could not be processed in time'));
            stop(c);
          }, timeoutMs);
        },
      };
      pending.set(id, p);
      if (up.has(c)) p.arm();
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
    get active() {
      return limiter.active;
    },
    get waiting() {
      return limiter.waiting;
    },
    async close() {
      closed = true;
      if (idleTimer) clearTimeout(idleTimer);
      fail(null, new AppError('UNAVAILABLE', 'Shutting down'));
      stop(child);
    },
  };
}
