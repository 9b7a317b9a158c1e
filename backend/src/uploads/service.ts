// attachmentService: uploads and who may read them (DESIGN.md, "Rich messages").
//
// - upload: the bytes say what a file is (detect.ts); images are re-encoded and thumbnailed
//   (image.ts), voice is measured (voice.ts), anything else is kept as a file. The blob goes to
//   the store under a key made from a fresh random id, then its row is written.
// - Reading: the uploader, and once it is sent, whoever may read its message (`audience`: the two
//   parties of a direct message). A recalled message's upload is deleted. Signed urls (signing.ts)
//   carry that right to an <img> or <audio> that cannot send a token.
// - Sending: only your own upload, once (chat/rich.ts marks it sent in the statement that stores
//   the message); an unsent upload is deleted after `unsentTtlMs` by `cleanup`, which any number
//   of nodes may run at once.
import { randomUUID } from 'node:crypto';
import type { Attachment, Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import { AppError, conflict, forbidden, notFound, tooLarge, validation } from '../http/errors.ts';
import type { AttachmentKind, WireAttachment, WireMessage } from '../realtime/events.ts';
import { toWire } from '../chat/wire.ts';
import { DELETED_USER_PREFIX } from '../chat/deletedUsers.ts';
import { sniff, VOICE_EXT, VOICE_MIME } from './detect.ts';
import type { ImageProcessor } from './imageProcess.ts';
import { cleanName, withExtension } from './names.ts';
import { head, joined, type ReceivedFile } from './receive.ts';
import type { UrlSigner, Variant } from './signing.ts';
import type { BlobStore } from './storage/index.ts';
import { readAudio, UnreadableAudioError } from './voice.ts';

/** The message an upload was sent in, as far as reading rights go. */
export interface SentIn {
  id: string;
  fromUserId: string | null;
  /** A direct message's recipient; null for a group message. */
  toUserId: string | null;
  /** A group message's group; null for a direct message. */
  groupId: string | null;
  createdAt: Date;
  deletedAt: Date | null;
}

/**
 * Who may read a sent upload besides its uploader: whoever may read the message it was sent in.
 * Direct messages: their two parties. Group messages: the group's current members, and a former
 * member if it was sent before they left (as group history reads), see `groupAudience`.
 */
export type MessageAudience = (userId: string, message: SentIn) => boolean | Promise<boolean>;

export const directAudience: MessageAudience = (userId, m) => m.groupId === null && (m.fromUserId === userId || m.toUserId === userId);

/**
 * The module's audience: the two parties of a direct message; for a group message, the group's
 * current members and the former members who left at or after it was sent.
 */
export function groupAudience(db: Database): MessageAudience {
  return async (userId, m) => {
    if (m.groupId === null) return directAudience(userId, m);
    const rows = await db.sql<{ ok: number }>(
      `SELECT 1 AS ok FROM ${db.table('GroupMember')}
       WHERE "groupId" = $1::uuid AND "userId" = $2::text
         AND ("leftAt" IS NULL OR "leftAt" >= ($3::timestamptz AT TIME ZONE 'UTC'))`,
      [m.groupId, userId, m.createdAt.toISOString()],
    );
    return rows.length > 0;
  };
}

export interface AttachmentLimits {
  maxBytes: number;
  maxVoiceMs: number;
  /** How long an upload may stay unsent (default 24 h). */
  unsentTtlMs: number;
}

export interface AttachmentServiceDeps {
  db: Database;
  store: BlobStore;
  signer: UrlSigner;
  images: ImageProcessor;
  limits: AttachmentLimits;
  audience?: MessageAudience;
  onError?: (err: unknown) => void;
}

/** How a reader proves their right: a signed url, or who they are (a bearer token). */
export type ReadAuth = { exp: string; sig: string } | { userId: string };

export interface OpenedBlob {
  key: string;
  size: number;
  mime: string;
  name: string;
  /** Raster images (and every thumbnail) are shown inline; anything else is a download. */
  inline: boolean;
}

type Row = Attachment & { message: SentIn | null };

const keysOf = (id: string) => {
  const dir = `att/${id.slice(-2)}`;
  return { file: `${dir}/${id}`, thumbnail: `${dir}/${id}.thumb` };
};

export function createAttachmentService(deps: AttachmentServiceDeps) {
  const { db, store, signer, images, limits, audience = groupAudience(db), onError = () => {} } = deps;
  const prisma = db.prisma;

  const load = (id: string): Promise<Row | null> =>
    prisma.attachment.findUnique({
      where: { id },
      include: { message: { select: { id: true, fromUserId: true, toUserId: true, groupId: true, createdAt: true, deletedAt: true } } },
    });

  function wire(a: Attachment, nowMs = Date.now()): WireAttachment {
    return {
      id: a.id,
      kind: a.kind as AttachmentKind,
      name: a.name,
      mime: a.mime,
      size: a.size,
      ...(a.width !== null && a.height !== null ? { width: a.width, height: a.height } : {}),
      ...(a.durationMs !== null ? { durationMs: a.durationMs } : {}),
      url: signer.url(a.id, 'file', nowMs),
      ...(a.thumbKey ? { thumbnailUrl: signer.url(a.id, 'thumbnail', nowMs) } : {}),
    };
  }

  /**
   * What to store for the received bytes: the kind, the bytes (an image is stored already, with
   * its thumbnail, by the image processor) and their facts.
   */
  async function prepare(file: ReceivedFile, keys: { file: string; thumbnail: string }) {
    const { filename } = file;
    // An image is told by its first bytes; it goes to the image processor as received, unjoined.
    const start = head(file, 64 * 1024);
    let sniffed = await sniff(start);
    const data = sniffed.kind === 'image' ? null : joined(file);
    if (data && data.length > start.length) sniffed = await sniff(data);
    if (sniffed.kind === 'image') {
      const img = await images.process(file, sniffed.format, keys);
      return {
        kind: 'image' as const,
        stored: img.size,
        mime: img.mime,
        name: withExtension(cleanName(filename, 'image'), img.ext),
        width: img.width,
        height: img.height,
        thumbnail: img.thumbnail,
      };
    }
    if (!data) throw new Error('unreachable: only an image is left unjoined');
    if (sniffed.kind === 'voice') {
      let info;
      try {
        info = await readAudio(sniffed.container, data, limits.maxVoiceMs);
      } catch (err) {
        if (err instanceof UnreadableAudioError) throw validation('The recording is damaged or has no duration');
        throw err;
      }
      if (info.audio) {
        if (info.durationMs > limits.maxVoiceMs) throw tooLarge(`Voice messages may be at most ${Math.round(limits.maxVoiceMs / 1000)} seconds long`, { maxDurationMs: limits.maxVoiceMs });
        const mime = VOICE_MIME[sniffed.container];
        return { kind: 'voice' as const, data, mime, name: withExtension(cleanName(filename, 'voice'), VOICE_EXT[sniffed.container]), durationMs: info.durationMs };
      }
      // A video (or a container without audio): a file like any other.
      return { kind: 'file' as const, data, mime: sniffed.fileMime, name: cleanName(filename, `file.${sniffed.ext}`) };
    }
    return { kind: 'file' as const, data, mime: sniffed.mime, name: cleanName(filename, sniffed.ext ? `file.${sniffed.ext}` : 'file') };
  }

  async function discardBlobs(keys: (string | null)[]): Promise<void> {
    const list = keys.filter((k): k is string => k !== null);
    if (list.length) await store.delete(list);
  }

  return {
    wire,

    /** Stores an upload of `me`'s and answers it as the wire shows it. */
    async upload(me: string, file: ReceivedFile): Promise<WireAttachment> {
      if (file.size === 0) throw validation('The file is empty');
      const id = randomUUID();
      const keys = keysOf(id);
      const p = await prepare(file, keys);
      const thumbnail = 'thumbnail' in p ? p.thumbnail : null;
      try {
        if (p.kind !== 'image') await store.put(keys.file, p.data, p.mime);
        const row = await prisma.attachment.create({
          data: {
            id,
            uploaderId: me,
            kind: p.kind,
            name: p.name,
            mime: p.mime,
            size: p.kind === 'image' ? p.stored : p.data.length,
            width: 'width' in p ? p.width : null,
            height: 'height' in p ? p.height : null,
            durationMs: 'durationMs' in p ? p.durationMs : null,
            storageKey: keys.file,
            thumbKey: thumbnail ? keys.thumbnail : null,
            thumbMime: thumbnail?.mime ?? null,
            thumbSize: thumbnail?.size ?? null,
          },
        });
        return wire(row);
      } catch (err) {
        await discardBlobs([keys.file, thumbnail ? keys.thumbnail : null]).catch(onError);
        throw err;
      }
    },

    /**
     * The upload `me` wants to send: their own and not sent yet. Someone else's that `me` can
     * read (it was sent to them) → 403 FORBIDDEN; one that means nothing to `me` → 404.
     */
    async claim(me: string, id: string): Promise<Attachment> {
      const row = await load(id);
      if (!row) throw notFound('Attachment');
      if (row.uploaderId !== me) {
        const visible = row.message !== null && row.message.deletedAt === null && (await audience(me, row.message));
        throw visible ? forbidden('You can only send your own uploads') : notFound('Attachment');
      }
      if (row.sentAt !== null || row.message !== null) throw conflict('This upload was already sent; upload the file again to send it again');
      return row;
    },

    /** Messages as the wire shows them, each upload with fresh signed urls. */
    async present(rows: Message[]): Promise<WireMessage[]> {
      const ids = [...new Set(rows.flatMap((r) => (r.attachmentId ? [r.attachmentId] : [])))];
      const found = ids.length ? await prisma.attachment.findMany({ where: { id: { in: ids } } }) : [];
      const byId = new Map(found.map((a) => [a.id, a]));
      const now = Date.now();
      return rows.map((r) => {
        const m = toWire(r);
        const a = r.attachmentId ? byId.get(r.attachmentId) : undefined;
        if (a) m.attachment = wire(a, now);
        return m;
      });
    },

    /**
     * The blob a reader asks for, once their right to it is checked: a valid, unexpired signature
     * (else 403), or a user who may read it (else 404, as for an id that does not exist).
     */
    async open(id: string, variant: Variant, auth: ReadAuth): Promise<OpenedBlob> {
      if ('sig' in auth) {
        const v = signer.verify(id, variant, auth.exp, auth.sig);
        if (v === 'expired') throw new AppError('FORBIDDEN', 'This link has expired; ask for the message again for a fresh one');
        if (v !== 'ok') throw new AppError('FORBIDDEN', 'Invalid signature');
      }
      const row = await load(id);
      // A recalled message's upload is gone for everyone (its blobs are being deleted).
      if (!row || row.message?.deletedAt) throw notFound('Attachment');
      if ('userId' in auth && row.uploaderId !== auth.userId) {
        if (!row.message || !(await audience(auth.userId, row.message))) throw notFound('Attachment');
      }
      if (variant === 'thumbnail') {
        if (!row.thumbKey || !row.thumbMime || row.thumbSize === null) throw notFound('Thumbnail');
        return { key: row.thumbKey, size: row.thumbSize, mime: row.thumbMime, name: withExtension(row.name, 'webp'), inline: true };
      }
      return { key: row.storageKey, size: row.size, mime: row.mime, name: row.name, inline: row.kind === 'image' };
    },

    /** Deletes the upload of a recalled message: its row (the message keeps no reference) and its blobs. */
    async discard(id: string): Promise<void> {
      const gone = await db.sql<{ storageKey: string; thumbKey: string | null }>(
        `DELETE FROM ${db.table('Attachment')} WHERE id = $1::uuid RETURNING "storageKey", "thumbKey"`,
        [id],
      );
      await discardBlobs(gone.flatMap((g) => [g.storageKey, g.thumbKey]));
    },

    /**
     * The host deleted `userId`: their unsent uploads go now; the ones they sent stay with the
     * other party, no longer theirs (the uploader becomes a tombstone id, so a user who later gets
     * the same id from the host reads none of them). Uploads whose messages were deleted outright
     * are handed back as unsent by the database (a trigger) and go with the cleanup job.
     */
    async forgetUploader(userId: string): Promise<void> {
      const t = db.table('Attachment');
      const gone = await db.sql<{ storageKey: string; thumbKey: string | null }>(
        `DELETE FROM ${t} WHERE "uploaderId" = $1::text AND "sentAt" IS NULL RETURNING "storageKey", "thumbKey"`,
        [userId],
      );
      await db.sql(`UPDATE ${t} SET "uploaderId" = $2::text WHERE "uploaderId" = $1::text`, [userId, DELETED_USER_PREFIX + randomUUID()]);
      await discardBlobs(gone.flatMap((g) => [g.storageKey, g.thumbKey]));
    },

    /**
     * Deletes uploads never sent within `unsentTtlMs`, at most `batch` per call; answers how many.
     * Safe on several nodes at once: each locks the rows it takes and skips those another node
     * holds (FOR UPDATE SKIP LOCKED), and a send in flight holds its upload's row too (the
     * foreign key), so an upload is either sent or deleted, never both. Blobs go after their rows:
     * nothing can refer to them any more.
     */
    async cleanup(opts: { now?: Date; batch?: number } = {}): Promise<number> {
      const cutoff = new Date((opts.now?.getTime() ?? Date.now()) - limits.unsentTtlMs);
      const t = db.table('Attachment');
      const gone = await db.sql<{ storageKey: string; thumbKey: string | null }>(
        `DELETE FROM ${t} WHERE id IN (
           SELECT id FROM ${t} WHERE "sentAt" IS NULL AND "createdAt" < ($1::timestamptz AT TIME ZONE 'UTC')
           ORDER BY "createdAt" LIMIT $2 FOR UPDATE SKIP LOCKED)
         RETURNING "storageKey", "thumbKey"`,
        [cutoff.toISOString(), opts.batch ?? 500],
      );
      await discardBlobs(gone.flatMap((g) => [g.storageKey, g.thumbKey]));
      return gone.length;
    },
  };
}
export type AttachmentService = ReturnType<typeof createAttachmentService>;
