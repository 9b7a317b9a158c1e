// Mutes (DESIGN.md, "Groups"): a muted conversation, a user's or a group's, still counts its own
// unread but is left out of `total`, and a client raises no desktop notification for it (the
// unread counts list what is muted). `until` null = until unmuted.
import type { Database } from '../db/database.ts';
import { notFound, validation } from '../http/errors.ts';
import type { MuteEntry } from '../realtime/events.ts';
import type { UserDirectory } from '../ports.ts';
import type { UnreadService } from '../chat/unread.ts';
import { requireMember } from './sql.ts';

export type MuteKind = MuteEntry['kind'];

export function createMuteService(deps: { db: Database; users: UserDirectory; unread: UnreadService }) {
  const { db, users, unread } = deps;
  const MUTE = db.table('Mute');
  return {
    /** Mutes a user I may chat with (not myself), or a group I am a member of. */
    async set(me: string, kind: MuteKind, id: string, until: Date | null): Promise<MuteEntry> {
      if (kind === 'user') {
        if (id === me) throw validation('You cannot mute yourself');
        if (!(await users.byIds([id])).some((u) => u.id === id)) throw notFound('User');
      } else await requireMember(db, id, me);
      await db.sql(
        `INSERT INTO ${MUTE} ("userId", kind, "targetId", "until") VALUES ($1::text, $2::text, $3::text, $4::timestamptz AT TIME ZONE 'UTC')
         ON CONFLICT ("userId", kind, "targetId") DO UPDATE SET "until" = EXCLUDED."until"`,
        [me, kind, id, until?.toISOString() ?? null],
      );
      await unread.push(me);
      return { kind, id, until: until?.toISOString() ?? null };
    },

    /** Unmutes; unmuting what is not muted changes nothing. */
    async remove(me: string, kind: MuteKind, id: string): Promise<void> {
      const rows = await db.sql(`DELETE FROM ${MUTE} WHERE "userId" = $1::text AND kind = $2::text AND "targetId" = $3::text RETURNING 1`, [me, kind, id]);
      if (rows.length > 0) await unread.push(me);
    },
  };
}
export type MuteService = ReturnType<typeof createMuteService>;
