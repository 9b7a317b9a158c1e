// The image child process (see imageProcess.ts): takes jobs over IPC, answers each with the
// re-encoded image and its thumbnail, or with the error the client is to get.
import { AppError } from '../http/errors.ts';
import type { ImageFormat } from './detect.ts';
import { processImage } from './image.ts';

interface Job {
  id: number;
  input: Uint8Array;
  format: ImageFormat;
  maxPixels: number;
}

const asBuffer = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

process.on('message', (job: Job) => {
  processImage(asBuffer(job.input), job.format, job.maxPixels).then(
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
