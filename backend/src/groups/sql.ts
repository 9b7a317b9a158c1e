// Reads of the group tables shared by the group service and the message service (who may send,
// read, recall in a group). Plain SQL on the module's schema; times read back as UTC instants.
import type { Database } from '../db/database.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { GroupInfo, GroupRole, GroupVisibility } from '../realtime/events.ts';

export interface GroupRow {
  id: string;
  name: string;
  avatarUrl: string | null;
  visibility: GroupVisibility;
  ownerId: string;
  memberCount: number;
  createdAt: Date;
}

export interface MemberRow {
  role: GroupRole;
  joinedAt: Date;
  leftAt: Date | null;
  readAt: Date;
}

/** A Group row's columns; `prefix` qualifies them (`g.`). */
export const groupColumns = (prefix = '') =>
  `${prefix}id, ${prefix}name, ${prefix}"avatarUrl", ${prefix}visibility, ${prefix}"ownerId", ${prefix}"memberCount",
   ${prefix}"createdAt" AT TIME ZONE 'UTC' AS "createdAt"`;

export const toGroupInfo = (g: GroupRow): GroupInfo => ({
  id: g.id,
  name: g.name,
  avatarUrl: g.avatarUrl,
  visibility: g.visibility,
  ownerId: g.ownerId,
  memberCount: g.memberCount,
  createdAt: g.createdAt.toISOString(),
});

/** A group and the caller's membership row (current or former), as far as they exist. */
export interface Access {
  group: GroupRow | null;
  member: MemberRow | null;
}

const statements = new Map<string, string>();
function accessSql(db: Database): string {
  let text = statements.get(db.schema);
  if (text === undefined) {
    text = `SELECT ${groupColumns('g.')}, gm.role, gm."joinedAt" AT TIME ZONE 'UTC' AS "joinedAt",
        gm."leftAt" AT TIME ZONE 'UTC' AS "leftAt", gm."readAt" AT TIME ZONE 'UTC' AS "readAt"
      FROM ${db.table('Group')} g LEFT JOIN ${db.table('GroupMember')} gm ON gm."groupId" = g.id AND gm."userId" = $2::text
      WHERE g.id = $1::uuid`;
    statements.set(db.schema, text);
  }
  return text;
}

/** One indexed lookup: the group, and `userId`'s membership of it. */
export async function groupAccess(db: Database, groupId: string, userId: string): Promise<Access> {
  const [row] = await db.sql<GroupRow & { role: GroupRole | null; joinedAt: Date | null; leftAt: Date | null; readAt: Date | null }>(
    accessSql(db),
    [groupId, userId],
  );
  if (!row) return { group: null, member: null };
  const { role, joinedAt, leftAt, readAt, ...group } = row;
  return { group, member: role === null ? null : { role, joinedAt: joinedAt!, leftAt, readAt: readAt! } };
}

export const notMember = () => new AppError('NOT_MEMBER', 'You are not a member of this group');

/** The group and a current membership, or 404 (no such group) / 403 NOT_MEMBER (never, or no longer). */
export async function requireMember(db: Database, groupId: string, userId: string): Promise<{ group: GroupRow; member: MemberRow }> {
  const { group, member } = await groupAccess(db, groupId, userId);
  if (!group) throw notFound('Group');
  if (!member || member.leftAt !== null) throw notMember();
  return { group, member };
}
