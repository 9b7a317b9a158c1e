// The image child process (see imageProcess.ts): opens the same blob store as the chat, then
// takes jobs over IPC: reads the upload from the temporary file named, re-encodes it, writes it
// and its thumbnail to the store, and answers with their description, or with the error the
// client is to get.
import { readFile } from 'node:fs/promises';
import { AppError } from '../http/errors.ts';
import type { ImageFormat } from './detect.ts';
import { storeImage } from './image.ts';
import { openBlobStore, type BlobStore, type StorageOption } from './storage/index.ts';

type Message =
  | { type: 'init'; storage: StorageOption }
  /** `file`: the upload, a temporary file the chat process wrote (and removes). */
  | { type: 'job'; id: number; file: string; format: ImageFormat; maxPixels: number; keys: { file: string; thumbnail: string } };

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
