// The image child process (see imageProcess.ts): opens the same blob store as the chat, then
// takes jobs over IPC: reads the upload from the temporary file named, re-encodes it, writes it
// and its thumbnail to the store, and answers with their description, or with the error the
// client is to get.
//
// Its CPU is bounded: one libvips thread per image (`sharp.concurrency(1)`; libvips' default is
// one per core, except on glibc without jemalloc), so a node re-encodes on at most
// `imageConcurrency` cores however many uploads arrive; the others wait in the chat process's
// queue (imageProcess.ts). No libvips operation cache: every upload is a new image, so the cache
// would only hold memory (up to 50 MB by default). SIMD (highway) stays on, sharp's default.
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { AppError } from '../http/errors.ts';
import type { ImageFormat } from './detect.ts';
import { storeImage } from './image.ts';
import { openBlobStore, type BlobStore, type StorageOption } from './storage/index.ts';

type Message =
  | { type: 'init'; storage: StorageOption }
  /** `file`: the upload, a temporary file the chat process wrote (and removes). */
  | { type: 'job'; id: number; file: string; format: ImageFormat; maxPixels: number; keys: { file: string; thumbnail: string } };

sharp.concurrency(1);
sharp.cache(false);

let store: Promise<BlobStore> | null = null;

process.on('message', (m: Message) => {
  if (m.type === 'init') {
    store = openBlobStore(m.storage);
    return;
  }
  const job = m;
  (async () => storeImage(await store!, job.keys, await readFile(job.file), job.format, job.maxPixels))().then(
    (result) => process.send!({ id: job.id, ok: true, result }),
    (err: unknown) =>
      process.send!({
        id: job.id,
        ok: false,
        code: err instanceof AppError ? err.code : 'INTERNAL',
        message: err instanceof Error ? err.message : String(err),
        details: err instanceof AppError ? err.details : undefined,
      }),
  );
});
// The parent went away (or let this child go when idle): nothing left to do.
process.on('disconnect', () => process.exit(0));
// Code loaded: the parent counts its jobs' time from here.
process.send!({ type: 'ready' });
