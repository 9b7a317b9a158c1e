// The image child process (see imageProcess.ts): opens the same blob store as the chat, then
// takes jobs over IPC: re-encodes each image, writes it and its thumbnail to the store, and
// answers with their description, or with the error the client is to get.
import { AppError } from '../http/errors.ts';
import type { ImageFormat } from './detect.ts';
import { storeImage } from './image.ts';
import { openBlobStore, type BlobStore, type StorageOption } from './storage/index.ts';

type Message =
  | { type: 'init'; storage: StorageOption }
  | { type: 'job'; id: number; input: Uint8Array; format: ImageFormat; maxPixels: number; keys: { file: string; thumbnail: string } };

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

let store: Promise<BlobStore> | null = null;

process.on('message', (m: Message) => {
  if (m.type === 'init') {
    store = openBlobStore(m.storage);
    return;
  }
  const job = m;
  (async () => storeImage(await store!, job.keys, asBuffer(job.input), job.format, job.maxPixels))().then(
    (result) => process.send!({ id: job.id, ok: true, result }),
    (err: unknown) =>
      process.send!({
        id: job.id,
        ok: false,
        code: err instanceof AppError ? err.code : 'INTERNAL',
        message: err instanceof Error ? err.message : String(err),
      }),
  );
});
// The parent went away (or let this child go when idle): nothing left to do.
process.on('disconnect', () => process.exit(0));
