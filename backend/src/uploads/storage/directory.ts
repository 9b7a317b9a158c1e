// The directory driver (the default, `UPLOAD_DIR`): one file per key under the root. Writes go to
// a temporary name and are renamed into place, so a reader never sees half a file. For several
// nodes the directory must be shared (or use the S3 driver).
import { mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobNotFoundError, checkKey, type BlobStore, type ByteRange } from './types.ts';

export async function createDirectoryStore(dir: string): Promise<BlobStore> {
  // Created with the first upload, not before: a host that never takes one gets no directory.
  const root = path.resolve(dir);
  const fileOf = (key: string) => {
    const file = path.resolve(root, checkKey(key));
    if (!file.startsWith(root + path.sep)) throw new Error(`friend-chat: storage key escapes the upload directory: ${key}`);
    return file;
  };
  return {
    kind: 'dir',
    async put(key, data) {
      const file = fileOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        await writeFile(tmp, data, { flag: 'wx' });
        await rename(tmp, file);
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => {});
        throw err;
      }
    },
    async get(key, range?: ByteRange): Promise<Readable> {
      let handle;
      try {
        handle = await open(fileOf(key), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobNotFoundError(key);
        throw err;
      }
      // The stream owns the handle and closes it when done or destroyed.
      return handle.createReadStream({ start: range?.start, end: range?.end });
    },
    async delete(keys) {
      await Promise.all(keys.map((k) => rm(fileOf(k), { force: true })));
    },
    async has(key) {
      try {
        return (await stat(fileOf(key))).isFile();
      } catch {
        return false;
      }
    },
    async close() {},
  };
}
