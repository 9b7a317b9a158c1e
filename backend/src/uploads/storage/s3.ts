// The S3 driver, for several nodes: any S3-compatible object storage through the official AWS SDK
// v3 client (AWS S3, MinIO, Ceph, R2, …). The bytes stream through the module on the way out, so
// the access checks, signed urls and safe headers are the same as with the directory driver.
import type { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { BlobNotFoundError, checkKey, type BlobStore, type ByteRange } from './types.ts';

export interface S3StoreOptions {
  bucket: string;
  /** For S3-compatible services (MinIO, …): their URL. Unset: AWS. */
  endpoint?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** Unset: the AWS SDK's default credential chain (environment, instance role, …). */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style urls (`endpoint/bucket/key`), as MinIO and most self-hosted services want. */
  forcePathStyle?: boolean;
  /** Prepended to every key (e.g. `friendchat/`), to share a bucket. */
  prefix?: string;
}

const notFound = (err: unknown) =>
  err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404);

export function createS3Store(opts: S3StoreOptions): BlobStore {
  if (!opts.bucket) throw new Error('friend-chat: uploads.s3.bucket is required');
  const client = new S3Client({
    region: opts.region ?? 'us-east-1',
    endpoint: opts.endpoint,
    forcePathStyle: opts.forcePathStyle,
    credentials: opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
    // Checksums only where the API requires them: S3-compatible services do not all know the
    // newer flexible checksums the SDK would otherwise add to every request.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = opts.bucket;
  const prefix = opts.prefix ?? '';
  const Key = (key: string) => prefix + checkKey(key);
  return {
    kind: 's3',
    async put(key, data, contentType) {
      await client.send(new PutObjectCommand({ Bucket, Key: Key(key), Body: data, ContentType: contentType, ContentLength: data.length }));
    },
    async get(key, range?: ByteRange): Promise<Readable> {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket, Key: Key(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
        return res.Body as Readable;
      } catch (err) {
        if (notFound(err)) throw new BlobNotFoundError(key);
        throw err;
      }
    },
    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const Objects = keys.slice(i, i + 1000).map((k) => ({ Key: Key(k) }));
        const res = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
        if (res.Errors?.length) throw new Error(`friend-chat: S3 could not delete ${res.Errors.length} object(s): ${res.Errors[0]?.Code} ${res.Errors[0]?.Message}`);
      }
    },
    async has(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: Key(key) }));
        return true;
      } catch (err) {
        if (notFound(err)) return false;
        throw err;
      }
    },
    async close() {
      client.destroy();
    },
  };
}
