// Rich messages' uploads, put together from createFriendChat's `uploads` option and limits: the
// blob store, the url key, the image processor, the attachment service, its routes and the
// periodic deletion of unsent uploads.
import type { Router } from 'express';
import type { Database } from '../db/database.ts';
import type { Identify } from '../ports.ts';
import { createImageProcessor } from './imageProcess.ts';
import { uploadRoutes } from './routes.ts';
import { createAttachmentService, type AttachmentService, type MessageAudience } from './service.ts';
import { createUrlSigner, loadUrlSecret } from './signing.ts';
import { openBlobStore, type BlobStore, type S3StoreOptions } from './storage/index.ts';

/** createFriendChat's `uploads` option: where the bytes go, and how clients reach them. */
export type UploadsOption = ({ dir: string } | { s3: S3StoreOptions }) & {
  /**
   * The path (or absolute URL) where the host mounts `chat.router`, as clients reach it; attachment
   * urls start with it (default `/api`: `/api/attachments/…`).
   */
  publicPath?: string;
  /** The key that signs attachment urls (default: generated once and kept in the module's database). */
  urlSecret?: string;
  /**
   * Images re-encoded at once on this node (default 1), each on one thread: the cores image work
   * may take. The other uploads wait their turn (at most `maxConcurrent` in all).
   */
  imageConcurrency?: number;
  /**
   * Re-encode images in a child process at a lower CPU priority (default true), so a stream of
   * uploads never takes the chat's CPU; false: in this process, on libuv's thread pool.
   */
  isolateImages?: boolean;
  /** Uploads received at once on this node (default 64; each holds up to the size limit in memory). More → 503. */
  maxConcurrent?: number;
  /** Uploads one user sends a node at once (default 4); more → 429 RATE_LIMITED with Retry-After: 1. */
  maxPerUser?: number;
  /** How often this node deletes unsent uploads (default every 10 minutes; 0 = never, e.g. when only some nodes should). */
  cleanupIntervalMs?: number;
};

export interface UploadLimits {
  /** Largest upload in bytes (default 10 MiB); more → 413 TOO_LARGE. */
  uploadMaxBytes?: number;
  /** Largest image in pixels, all frames of an animation together (default 40 megapixels); more → 413. */
  imageMaxPixels?: number;
  /** Longest voice message in seconds (default 300); longer → 413. */
  voiceMaxSeconds?: number;
  /** How long a signed attachment url works (default 86,400 s = 24 h). */
  attachmentUrlTtlSeconds?: number;
  /** How long an upload may stay unsent before it is deleted (default 86,400 s = 24 h). */
  unsentUploadTtlSeconds?: number;
}

export const DEFAULT_UPLOAD_DIR = './data/uploads';

export interface Uploads {
  attachments: AttachmentService;
  store: BlobStore;
  router: Router;
  close(): Promise<void>;
}

export async function createUploads(opts: {
  db: Database;
  option: UploadsOption | undefined;
  limits: UploadLimits;
  identify: Identify;
  audience?: MessageAudience;
  onError: (err: unknown) => void;
}): Promise<Uploads> {
  const option = opts.option ?? { dir: DEFAULT_UPLOAD_DIR };
  const { limits, onError } = opts;
  const maxBytes = limits.uploadMaxBytes ?? 10 * 1024 * 1024;
  const store = await openBlobStore(option);
  try {
    const secret = option.urlSecret ?? (await loadUrlSecret(opts.db));
    const signer = createUrlSigner(secret, { ttlSeconds: limits.attachmentUrlTtlSeconds ?? 86_400, publicPath: option.publicPath ?? '/api' });
    const images = createImageProcessor({
      maxPixels: limits.imageMaxPixels ?? 40_000_000,
      concurrency: option.imageConcurrency ?? 1,
      isolate: option.isolateImages ?? true,
      store,
      storage: 's3' in option && option.s3 ? { s3: option.s3 } : { dir: (option as { dir: string }).dir },
    });
    const attachments = createAttachmentService({
      db: opts.db,
      store,
      signer,
      images,
      audience: opts.audience,
      onError,
      limits: {
        maxBytes,
        maxVoiceMs: (limits.voiceMaxSeconds ?? 300) * 1000,
        unsentTtlMs: (limits.unsentUploadTtlSeconds ?? 86_400) * 1000,
      },
    });
    const router = uploadRoutes({ identify: opts.identify, attachments, store, maxBytes, maxConcurrent: option.maxConcurrent ?? 64, maxPerUser: option.maxPerUser ?? 4 });

    // Every node may run the cleanup (it is safe at once); each starts at a random point of the
    // interval, so they spread out.
    const every = option.cleanupIntervalMs ?? 10 * 60_000;
    let running: Promise<void> | null = null;
    const sweep = () => {
      running ??= (async () => {
        try {
          while ((await attachments.cleanup()) > 0);
        } catch (err) {
          onError(err);
        } finally {
          running = null;
        }
      })();
    };
    let timer: NodeJS.Timeout | null = null;
    const first = every > 0 ? setTimeout(() => {
      sweep();
      timer = setInterval(sweep, every);
      timer.unref();
    }, Math.floor(Math.random() * every)) : null;
    first?.unref();

    return {
      attachments,
      store,
      router,
      async close() {
        if (first) clearTimeout(first);
        if (timer) clearInterval(timer);
        await running;
        await images.close();
        await store.close();
      },
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

export type { MessageAudience } from './service.ts';
export type { S3StoreOptions } from './storage/index.ts';
