// POST /uploads, GET /attachments/:id and /attachments/:id/thumbnail (DESIGN.md, "Rich messages").
//
// Served bytes never run in the page's origin: every answer carries `nosniff` and a CSP that
// allows nothing (`default-src 'none'; sandbox`), so even a file opened directly in a tab cannot
// run a script; only raster images (and thumbnails) are inline, with their real type, and
// anything else is an `attachment` download.
import type { Request, Response } from 'express';
import { Router } from 'express';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { AppError, errorBody, notFound } from '../http/errors.ts';
import { currentUser, requireIdentity } from '../http/identity.ts';
import { idParam, parse } from '../http/validate.ts';
import { toSession, type Identify } from '../ports.ts';
import type { AttachmentService, ReadAuth } from './service.ts';
import { contentDisposition } from './names.ts';
import { receiveFile } from './receive.ts';
import type { Variant } from './signing.ts';
import { BlobNotFoundError, type BlobStore, type ByteRange } from './storage/index.ts';

export interface UploadRouteOptions {
  identify: Identify;
  attachments: AttachmentService;
  store: BlobStore;
  maxBytes: number;
  /** Uploads this node receives at once; more are answered 503 UNAVAILABLE (Retry-After: 1). */
  maxConcurrent: number;
  /** Uploads one user sends this node at once; more are answered 429 RATE_LIMITED (Retry-After: 1). */
  maxPerUser: number;
}

/** A single `bytes=` range of a file of `size` bytes: the range, null (serve it all) or 'unsatisfiable'. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  // Several ranges, or another unit: allowed to be ignored (RFC 9110), the whole file is sent.
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

const bearer = (req: Request) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

export function uploadRoutes(opts: UploadRouteOptions): Router {
  const { identify, attachments, store, maxBytes, maxConcurrent, maxPerUser } = opts;
  const r = Router();
  let receiving = 0;
  // Per user, so that one account cannot hold every place of the node.
  const byUser = new Map<string, number>();

  r.post('/uploads', requireIdentity(identify), async (req, res) => {
    const userId = currentUser(res);
    const mine = byUser.get(userId) ?? 0;
    if (mine >= maxPerUser) {
      throw new AppError('RATE_LIMITED', `At most ${maxPerUser} uploads at once`, undefined, { retryAfterSeconds: 1 });
    }
    if (receiving >= maxConcurrent) {
      throw new AppError('UNAVAILABLE', 'Too many uploads in progress, try again', undefined, { retryAfterSeconds: 1 });
    }
    receiving++;
    byUser.set(userId, mine + 1);
    try {
      const file = await receiveFile(req, { maxBytes });
      const attachment = await attachments.upload(userId, file);
      res.status(201).json({ attachment });
    } finally {
      receiving--;
      const left = (byUser.get(userId) ?? 1) - 1;
      if (left > 0) byUser.set(userId, left);
      else byUser.delete(userId);
    }
  });

  /** Who is asking, and how they prove it: a signed url, else a bearer token, else 401. */
  async function authOf(req: Request): Promise<ReadAuth> {
    const { exp, sig } = req.query;
    if (exp !== undefined || sig !== undefined) {
      if (typeof exp !== 'string' || typeof sig !== 'string') throw new AppError('FORBIDDEN', 'Invalid signature');
      return { exp, sig };
    }
    const token = bearer(req);
    if (!token) throw new AppError('UNAUTHORIZED', 'A signed url or a bearer token is required');
    let session;
    try {
      session = toSession(await identify(token));
    } catch (err) {
      throw err instanceof AppError && err.code === 'UNAVAILABLE' ? err : new AppError('UNAUTHORIZED', 'Invalid token');
    }
    if (!session) throw new AppError('UNAUTHORIZED', 'Invalid token');
    return { userId: session.userId };
  }

  async function serve(req: Request, res: Response, variant: Variant) {
    const { id } = parse(idParam('id'), req.params);
    const auth = await authOf(req);
    const blob = await attachments.open(id, variant, auth);

    const range = parseRange(req.headers.range, blob.size);
    if (range === 'unsatisfiable') {
      res.setHeader('Content-Range', `bytes */${blob.size}`);
      res.status(416).json(errorBody(new AppError('VALIDATION', `Range not satisfiable: the file has ${blob.size} bytes`)));
      return;
    }
    const etag = `"${id}${variant === 'thumbnail' ? '-t' : ''}"`;
    const notModified = req.headers['if-none-match'] === etag;
    // Opened before any header is set: a blob that is missing is answered as an error, not half a file.
    let stream: Readable | null = null;
    if (req.method !== 'HEAD' && !notModified) {
      try {
        stream = await store.get(blob.key, range ?? undefined);
      } catch (err) {
        if (err instanceof BlobNotFoundError) throw notFound('Attachment');
        throw err;
      }
    }

    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Security-Policy', "default-src 'none'; sandbox");
    res.setHeader('Content-Type', blob.mime);
    res.setHeader('Content-Disposition', contentDisposition(blob.inline ? 'inline' : 'attachment', blob.name));
    res.setHeader('Accept-Ranges', 'bytes');
    // The bytes behind an id never change. A signed url may be cached until it expires; with a
    // token, a cache must ask again (the right to read may have gone).
    res.setHeader('ETag', etag);
    const maxAge = 'sig' in auth ? Math.max(0, Math.min(86_400, Number(auth.exp) - Math.floor(Date.now() / 1000))) : null;
    res.setHeader('Cache-Control', maxAge === null ? 'private, no-cache' : `private, max-age=${maxAge}`);
    if (notModified) {
      res.status(304).end();
      return;
    }
    if (range) {
      res.status(206);
      res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${blob.size}`);
      res.setHeader('Content-Length', String(range.end - range.start + 1));
    } else {
      res.setHeader('Content-Length', String(blob.size));
    }
    if (!stream) {
      res.end();
      return;
    }
    try {
      await pipeline(stream, res);
    } catch {
      // The client went away, or the store failed mid-file: the answer is already under way.
      res.destroy();
    }
  }

  r.get('/attachments/:id', (req, res) => serve(req, res, 'file'));
  r.get('/attachments/:id/thumbnail', (req, res) => serve(req, res, 'thumbnail'));
  return r;
}
