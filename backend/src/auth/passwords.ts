// Password hashing off the event loop. bcrypt is CPU work by design (tens of milliseconds at
// cost 10); on the main thread every sign-in attempt stalled every other request. It runs here
// in a small pool of worker threads with a bounded queue: when the pool is saturated an attempt
// is refused at once (503 UNAVAILABLE, Retry-After) instead of everyone waiting behind it, and
// the auth service asks `full()` first so such an attempt costs no database work either. On
// Linux the threads run at a lower CPU priority (nice + 10) than the event loop, so a flood of
// hashing cannot take the cores from the requests of everyone else.
//
// Stored formats, both checked by `verify`:
// - `$2a$…`/`$2b$…`: plain bcrypt of the password (hashes made before this module). bcrypt
//   reads only the first 72 bytes of its input, so longer passwords were cut there.
// - `$bcrypt-sha256$$2b$…`: bcrypt of base64(HMAC-SHA256(NFC(password))), 44 bytes, so every
//   character of a password up to the length limit counts. Every new hash has this form.
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AppError } from 'friend-chat/server';

export const PREHASHED = '$bcrypt-sha256$';
// Not a secret: a fixed key so the digest is not a bare SHA-256 that matches other leaked lists.
const PREHASH_KEY = 'friend-chat/password/v1';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, stored: string): Promise<boolean>;
  /**
   * Whether a job submitted now would be refused: closed, or every thread busy and the waiting
   * queue at its limit. Constant work, so callers can ask before doing anything costly.
   */
  full(): boolean;
  /** Stops the threads; waiting and running jobs fail with UNAVAILABLE. */
  close(): Promise<void>;
}

export interface PasswordHasherOptions {
  rounds: number;
  threads: number;
  /** Jobs that may wait for a free thread; one more is refused. */
  queue: number;
}

export function prehash(password: string): string {
  return createHmac('sha256', PREHASH_KEY).update(password.normalize('NFC'), 'utf8').digest('base64');
}

// The worker is plain JavaScript evaluated from this string, so it runs the same under tsx,
// vitest and compiled JS (no .ts/.js file to find next to this module). It loads bcryptjs from
// the path this module resolves.
// It lowers its own CPU priority first: on Linux a thread's nice value is its own, so
// setPriority(0, …) there affects this thread only (elsewhere it would renice the whole process,
// so the pool asks for it only on Linux). Raising it back is not allowed unprivileged; failures
// are ignored, the pool works either way.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.niceIncrement) {
  try {
    const os = require('node:os');
    os.setPriority(0, Math.min(19, os.getPriority(0) + workerData.niceIncrement));
  } catch {}
}
const bcrypt = require(workerData.bcryptjs);
parentPort.on('message', (job) => {
  try {
    const result = job.op === 'hash' ? bcrypt.hashSync(job.password, job.rounds) : bcrypt.compareSync(job.password, job.hash);
    parentPort.postMessage({ result });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;
const BCRYPTJS = createRequire(import.meta.url).resolve('bcryptjs');
/** How much less CPU priority the threads get than the process (Linux nice steps). */
const NICE_INCREMENT = process.platform === 'linux' ? 10 : 0;

type Task = { op: 'hash'; password: string; rounds: number } | { op: 'compare'; password: string; hash: string };
type Job = Task & { resolve(value: unknown): void; reject(err: unknown): void };

interface Thread {
  worker: Worker;
  job: Job | null;
}

export const busy = () =>
  new AppError('UNAVAILABLE', 'Too many sign-ins are being checked right now, try again in a moment', undefined, { retryAfterSeconds: 1 });

export function createPasswordHasher(opts: PasswordHasherOptions): PasswordHasher {
  const threads: Thread[] = [];
  const waiting: Job[] = [];
  let closed = false;

  // Threads start on first use (most test apps never hash) and stay; an idle one does not keep
  // the process alive.
  function spawn(): Thread {
    const thread: Thread = { worker: new Worker(WORKER_SOURCE, { eval: true, workerData: { bcryptjs: BCRYPTJS, niceIncrement: NICE_INCREMENT } }), job: null };
    thread.worker.unref();
    thread.worker.on('message', (msg: { result?: unknown; error?: string }) => {
      const job = thread.job;
      thread.job = null;
      thread.worker.unref();
      if (job) {
        if (msg.error !== undefined) job.reject(new Error(`password hashing failed: ${msg.error}`));
        else job.resolve(msg.result);
      }
      next(thread);
    });
    // A thread that dies takes its job with it; a new one takes its place.
    const onDeath = (err: unknown) => {
      const i = threads.indexOf(thread);
      if (i < 0) return;
      threads.splice(i, 1);
      thread.job?.reject(err instanceof Error ? err : new Error('password thread exited'));
      thread.job = null;
      if (!closed && waiting.length) next(spawn());
    };
    thread.worker.on('error', onDeath);
    thread.worker.on('exit', onDeath);
    threads.push(thread);
    return thread;
  }

  function run(thread: Thread, job: Job) {
    thread.job = job;
    thread.worker.ref();
    const { resolve: _r, reject: _j, ...message } = job;
    thread.worker.postMessage(message);
  }

  function next(thread: Thread) {
    const job = waiting.shift();
    if (job && !closed) run(thread, job);
  }

  function full(): boolean {
    if (closed) return true;
    if (waiting.length < opts.queue || threads.length < opts.threads) return false;
    for (const t of threads) if (t.job === null) return false;
    return true;
  }

  function submit<T>(task: Task): Promise<T> {
    if (closed) return Promise.reject(busy());
    return new Promise<T>((resolve, reject) => {
      const job: Job = { ...task, resolve: resolve as (value: unknown) => void, reject };
      const idle = threads.find((t) => t.job === null) ?? (threads.length < opts.threads ? spawn() : null);
      if (idle) run(idle, job);
      else if (waiting.length < opts.queue) waiting.push(job);
      else reject(busy());
    });
  }

  return {
    async hash(password) {
      return PREHASHED + (await submit<string>({ op: 'hash', password: prehash(password), rounds: opts.rounds }));
    },
    async verify(password, stored) {
      if (stored.startsWith(PREHASHED)) return submit<boolean>({ op: 'compare', password: prehash(password), hash: stored.slice(PREHASHED.length) });
      return submit<boolean>({ op: 'compare', password, hash: stored });
    },
    full,
    async close() {
      closed = true;
      for (const job of waiting.splice(0)) job.reject(busy());
      const all = threads.splice(0);
      for (const t of all) t.job?.reject(busy());
      await Promise.all(all.map((t) => t.worker.terminate()));
    },
  };
}
