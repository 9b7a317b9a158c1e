// Where uploads keep their bytes (DESIGN.md, "Rich messages", Storage): one interface, two drivers
// (a directory, S3-compatible object storage). Keys are made up by the module (never derived from
// a file name): lowercase letters, digits, `/`, `-`, `.`.
import type { Readable } from 'node:stream';

/** Inclusive byte range, as HTTP's Range header counts. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /** Which driver: 'dir' or 's3' (for logs and the health of a deployment). */
  readonly kind: 'dir' | 's3';
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** The bytes of `key` (or of `range` within it). A missing key throws `BlobNotFoundError`. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Deletes the keys; missing ones are fine. */
  delete(keys: string[]): Promise<void>;
  has(key: string): Promise<boolean>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(key: string) {
    super(`blob not found: ${key}`);
    this.name = 'BlobNotFoundError';
  }
}

const KEY = /^[a-z0-9][a-z0-9/.-]{0,199}$/;

/** Refuses a key the module would never make: defence in depth for the directory driver. */
export function checkKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new Error(`friend-chat: invalid storage key ${JSON.stringify(key)}`);
  }
  return key;
}
