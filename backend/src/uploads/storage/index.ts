// The blob store a createFriendChat `uploads` option names.
import { createDirectoryStore } from './directory.ts';
import { createS3Store, type S3StoreOptions } from './s3.ts';
import type { BlobStore } from './types.ts';

export type StorageOption = { dir: string } | { s3: S3StoreOptions };

export async function openBlobStore(option: StorageOption): Promise<BlobStore> {
  if ('s3' in option && option.s3) return createS3Store(option.s3);
  if ('dir' in option && typeof option.dir === 'string' && option.dir) return createDirectoryStore(option.dir);
  throw new Error('friend-chat: uploads must be { dir } or { s3: { bucket, … } }');
}

export { BlobNotFoundError, type BlobStore, type ByteRange } from './types.ts';
export type { S3StoreOptions } from './s3.ts';
