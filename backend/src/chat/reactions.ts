// Reactions (DESIGN.md, "Message lifecycle"): which strings are one emoji, and a page's
// reactions in one query.
import { z } from 'zod';
import type { Database } from '../db/database.ts';
import type { WireReaction } from '../realtime/events.ts';

/** Distinct emoji one message may carry; one more is refused (409 CONFLICT). */
export const MAX_EMOJI_PER_MESSAGE = 20;

// One emoji of Unicode's recommended set (RGI): a single pictograph, a keycap, a flag, a ZWJ
// sequence, with its skin tone. Node 20 knows the `v` flag (the TypeScript target here predates it).
const RGI_EMOJI = new RegExp('^\\p{RGI_Emoji}$', 'v');

/**
 * The emoji as stored, or null when `s` is not exactly one emoji. A pictograph typed without its
 * emoji presentation selector (U+FE0F: "❤" for "❤️") is taken in its fully qualified form, so
 * both count as one emoji.
 */
export function normalizeEmoji(s: string): string | null {
  if (s.length === 0 || s.length > 64) return null;
  if (RGI_EMOJI.test(s)) return s;
  const qualified = `${s}\uFE0F`;
  return RGI_EMOJI.test(qualified) ? qualified : null;
}

/** A single emoji (percent-decoded already, when it comes from a path). */
export const Emoji = z.string().transform((s, ctx) => {
  const e = normalizeEmoji(s);
  if (e === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a single emoji' });
    return z.NEVER;
  }
  return e;
});

/**
 * A scalar subquery: the reactions of message `messageId` (an SQL expression) as `viewer` (a
 * parameter) sees them, exactly as reactionsOf gives them: a json array, null when there are none.
 * For statements that read a page and its reactions in one round trip.
 */
export const reactionsColumn = (db: Database, messageId: string, viewer: string) =>
  `(SELECT json_agg(json_build_object('emoji', r.emoji, 'count', r.n, 'mine', r.mine) ORDER BY r.first, r.emoji)
      FROM (SELECT emoji, count(*)::int AS n, coalesce(bool_or("userId" = ${viewer}::text), false) AS mine, min("createdAt") AS first
              FROM ${db.table('Reaction')} WHERE "messageId" = ${messageId} GROUP BY emoji) r)`;

/**
 * The reactions of these messages, as `viewer` sees them (`mine`), one query for the whole page;
 * each message's emoji in the order they were first given (ties by emoji).
 */
export async function reactionsOf(db: Database, messageIds: string[], viewer: string | null): Promise<Map<string, WireReaction[]>> {
  const out = new Map<string, WireReaction[]>();
  if (messageIds.length === 0) return out;
  const rows = await db.sql<{ messageId: string; emoji: string; count: number; mine: boolean }>(
    `SELECT "messageId", emoji, count(*)::int AS count, coalesce(bool_or("userId" = $2::text), false) AS mine
     FROM ${db.table('Reaction')} WHERE "messageId" = ANY($1::uuid[])
     GROUP BY "messageId", emoji ORDER BY "messageId", min("createdAt"), emoji`,
    [messageIds, viewer],
  );
  for (const r of rows) {
    let list = out.get(r.messageId);
    if (!list) out.set(r.messageId, (list = []));
    list.push({ emoji: r.emoji, count: r.count, mine: r.mine });
  }
  return out;
}
