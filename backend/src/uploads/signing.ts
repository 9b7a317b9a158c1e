// Signed, expiring attachment urls (DESIGN.md, "Rich messages"): `?exp=<unix seconds>&sig=<HMAC>`
// over the attachment id, the variant (the file or its thumbnail) and the expiry. A url is a
// capability: whoever holds it reads the file until it expires, without a token (an <img> or
// <audio> cannot send one). Expiries are rounded up to a step (an hour for the default 24 h), so
// the same attachment keeps the same url for a while and browsers can cache it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Database } from '../db/database.ts';

export type Variant = 'file' | 'thumbnail';

export interface UrlSigner {
  /** The path of a signed url for the attachment, under `publicPath`. */
  url(id: string, variant: Variant, nowMs?: number): string;
  /** Whether `sig` signs (id, variant, exp) and `exp` is still ahead. */
  verify(id: string, variant: Variant, exp: string, sig: string, nowMs?: number): 'ok' | 'expired' | 'invalid';
}

export function createUrlSigner(secret: string, opts: { ttlSeconds: number; publicPath: string }): UrlSigner {
  const { ttlSeconds, publicPath } = opts;
  const step = Math.max(1, Math.min(3600, Math.floor(ttlSeconds / 24)));
  const mac = (id: string, variant: Variant, exp: number) => createHmac('sha256', secret).update(`${id}\n${variant}\n${exp}`).digest('base64url');
  const base = publicPath.replace(/\/+$/, '');
  return {
    url(id, variant, nowMs = Date.now()) {
      const exp = Math.ceil((nowMs / 1000 + ttlSeconds) / step) * step;
      return `${base}/attachments/${id}${variant === 'thumbnail' ? '/thumbnail' : ''}?exp=${exp}&sig=${mac(id, variant, exp)}`;
    },
    verify(id, variant, exp, sig, nowMs = Date.now()) {
      if (!/^\d{1,12}$/.test(exp) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return 'invalid';
      const want = Buffer.from(mac(id, variant, Number(exp)));
      if (!timingSafeEqual(want, Buffer.from(sig))) return 'invalid';
      return Number(exp) * 1000 > nowMs ? 'ok' : 'expired';
    },
  };
}

/**
 * The module's url key: generated once and kept in its database, so every node signs and checks
 * with the same one without any configuration (a node that starts later reads the stored one).
 */
export async function loadUrlSecret(db: Database): Promise<string> {
  const t = db.table('ModuleSecret');
  await db.sql(`INSERT INTO ${t} (name, value) VALUES ('attachment-urls', $1) ON CONFLICT (name) DO NOTHING`, [randomBytes(32).toString('base64url')]);
  const [row] = await db.sql<{ value: string }>(`SELECT value FROM ${t} WHERE name = 'attachment-urls'`);
  if (!row) throw new Error('friend-chat: could not read the attachment url key');
  return row.value;
}
