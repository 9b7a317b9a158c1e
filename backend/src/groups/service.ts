// groupService: the only place that knows the group rules (DESIGN.md, "Groups"). The HTTP
// routes and the socket handlers both call it; group messages go through the message service's
// send path (chat/service.ts), which asks the membership through groups/sql.ts.
//
// Every membership change runs in one transaction that first locks the group's row: changes to
// one group happen one at a time, so the member count, the size limit, roles and ownership stay
// exact under concurrent joins, and a change that fails leaves nothing behind. What the change
// sends (its GROUP_EVENT notice, group:member, the room joins and leaves) goes out after commit.
// The host's ports (users, friends) are asked before the transaction: on PGlite, one connection,
// a host query inside it would wait for the transaction itself.
import type { Database, SqlFn } from '../db/database.ts';
import { AppError, notFound } from '../http/errors.ts';
import type { Bus } from '../realtime/bus.ts';
import type {
  GroupConversationEntry,
  GroupEventKind,
  GroupEventMetadata,
  GroupInfo,
  GroupListEntry,
  GroupMemberEntry,
  GroupRole,
  GroupVisibility,
  GroupWireMessage,
  WireMessage,
  WireReaction,
  PublicUser,
} from '../realtime/events.ts';
import type { ChatUser, FriendGraph, UserDirectory } from '../ports.ts';
import type { Message } from '../generated/prisma/client.ts';
import { decodeCursor, encodeCursor, type Position } from '../chat/cursor.ts';
import { uuidv7 } from '../chat/ids.ts';
import { deliveredColumn, MESSAGE_COLUMNS } from '../chat/sql.ts';
import { toChatUser } from '../chat/service.ts';
import type { UnreadService } from '../chat/unread.ts';
import { toWire } from '../chat/wire.ts';
import { groupColumns, groupAccess, notMember, requireMember, toGroupInfo, type GroupRow } from './sql.ts';
import { groupRoom, type GroupRooms } from './rooms.ts';
import { noContentFilter, type ContentFilter } from '../chat/contentFilter.ts';
import { unreadSql } from './seq.ts';
import { reactionsColumn } from '../chat/reactions.ts';

/** A row of historySql: the caller's membership, and a message of the page with its reactions (none: `id` null). */
type HistoryRow = Message & { member: boolean; reactions: WireReaction[] | null; deliveredAt: Date | null };

const historyStatements = new Map<string, string>();
/**
 * A group's history page in one statement: the group (no row: no such group), whether the caller
 * ($2) is or was a member (`member`; a former member's page ends when they left), then the page,
 * newest first, $3 rows older than the cursor ($4, $5) if any, each with its reactions as
 * reactionsOf (chat/reactions.ts) gives them: `mine` for the caller, in the order first given.
 * The page is ordered by the stored columns (`m.`), not the UTC output column of the same name:
 * the index on (groupId, createdAt, id) then hands the rows over in order, no sort of the group.
 */
export function historySql(db: Database, withCursor: boolean): string {
  const key = `${db.schema}:${withCursor}`;
  let text = historyStatements.get(key);
  if (text === undefined) {
    const t = `($4::timestamptz AT TIME ZONE 'UTC')`;
    const older = withCursor ? `AND "createdAt" <= ${t} AND ("createdAt" < ${t} OR id < $5::uuid)` : '';
    text = `SELECT a.member, p.*, ${reactionsColumn(db, 'p.id', '$2')} AS reactions, ${deliveredColumn(db, 'p.id')} AS "deliveredAt"
      FROM (SELECT g.id, gm."userId" IS NOT NULL AS member, gm."leftAt"
              FROM ${db.table('Group')} g LEFT JOIN ${db.table('GroupMember')} gm ON gm."groupId" = g.id AND gm."userId" = $2::text
             WHERE g.id = $1::uuid) a
      LEFT JOIN LATERAL (
        SELECT ${MESSAGE_COLUMNS} FROM ${db.table('Message')} m
         WHERE a.member AND "groupId" = a.id AND "deletedAt" IS NULL AND "createdAt" <= coalesce(a."leftAt", 'infinity') ${older}
         ORDER BY m."createdAt" DESC, m.id DESC LIMIT $3
      ) p ON true
      ORDER BY p."createdAt" DESC, p.id DESC`;
    historyStatements.set(key, text);
  }
  return text;
}

export interface GroupServiceDeps {
  db: Database;
  bus: Bus;
  friends: FriendGraph;
  users: UserDirectory;
  unread: UnreadService;
  rooms: GroupRooms;
  /** GROUP_MAX_MEMBERS: at most this many members (default 500). */
  maxMembers: number;
  /** Messages as the wire shows them, uploads with fresh signed urls (the attachment service's). */
  /** Rows on the wire; `viewer`: whose `reactions[].mine`. */
  present: (rows: Message[], opts?: { viewer?: string; reactions?: Map<string, WireReaction[]> }) => Promise<WireMessage[]>;
  /** Masks or rejects listed words in group names, before they are stored (default: none). */
  filter?: ContentFilter;
}

export interface GroupPatch {
  name?: string;
  avatarUrl?: string | null;
  visibility?: GroupVisibility;
}

interface MemberState {
  userId: string;
  role: GroupRole;
  joinedAt: Date;
  leftAt: Date | null;
}

/** What a committed change announces. */
interface Announcement {
  group: GroupInfo;
  /** The GROUP_EVENT stored with it (none for role changes). */
  notice?: GroupWireMessage;
  member?: { event: 'joined' | 'added' | 'left' | 'removed' | 'role'; userIds: string[]; role?: GroupRole };
  /** Users whose sockets join (true) or leave (false) the room, after the notice went out. */
  rooms?: { userIds: string[]; member: boolean };
  /** Ownership passed on to this member. */
  newOwner?: string;
}

const full = (max: number) => new AppError('GROUP_FULL', `A group has at most ${max} members`);
const ROLE_RANK: Record<GroupRole, number> = { owner: 0, admin: 1, member: 2 };
const quoted = (name: string) => `“${name}”`;

/** The plain-text fallback of a notice; clients render it from the metadata in their language. */
function noticeText(m: GroupEventMetadata): string {
  const who = m.actor.displayName;
  const them = (m.users ?? []).map((u) => u.displayName).join(', ');
  switch (m.event) {
    case 'created':
      return them ? `${who} created the group ${quoted(m.name ?? '')} with ${them}` : `${who} created the group ${quoted(m.name ?? '')}`;
    case 'joined':
      return `${who} joined the group`;
    case 'added':
      return `${who} added ${them}`;
    case 'left':
      return `${who} left the group`;
    case 'removed':
      return `${who} removed ${them}`;
    case 'renamed':
      return `${who} renamed the group to ${quoted(m.name ?? '')}`;
  }
}

export function createGroupService(deps: GroupServiceDeps) {
  const { db, bus, friends, users, unread, rooms, maxMembers, present, filter = noContentFilter } = deps;
  const GROUP = db.table('Group');
  const MEMBER = db.table('GroupMember');
  const MESSAGE = db.table('Message');
  const COLS = groupColumns();
  const now = `(now() AT TIME ZONE 'UTC')`;

  // ---- helpers ----

  /** Public fields of these users as the host knows them, by id (unknown ids left out). */
  async function publicUsers(ids: string[]): Promise<Map<string, PublicUser>> {
    if (ids.length === 0) return new Map();
    const found = await users.byIds([...new Set(ids)]);
    return new Map(found.map((u: ChatUser) => [u.id, toChatUser(u)]));
  }

  /** Locks the group's row for the rest of the transaction; 404 when it does not exist. */
  async function lockGroup(sql: SqlFn, groupId: string): Promise<GroupRow> {
    const [g] = await sql<GroupRow>(`SELECT ${COLS} FROM ${GROUP} WHERE id = $1::uuid FOR UPDATE`, [groupId]);
    if (!g) throw notFound('Group');
    return g;
  }

  async function memberStates(sql: SqlFn, groupId: string, userIds: string[]): Promise<Map<string, MemberState>> {
    const rows = await sql<MemberState>(
      `SELECT "userId", role, "joinedAt" AT TIME ZONE 'UTC' AS "joinedAt", "leftAt" AT TIME ZONE 'UTC' AS "leftAt"
       FROM ${MEMBER} WHERE "groupId" = $1::uuid AND "userId" = ANY($2::text[])`,
      [groupId, userIds],
    );
    return new Map(rows.map((r) => [r.userId, r]));
  }

  /** The caller's current membership inside a transaction, or NOT_MEMBER. */
  async function currentMember(sql: SqlFn, groupId: string, me: string): Promise<MemberState> {
    const m = (await memberStates(sql, groupId, [me])).get(me);
    if (!m || m.leftAt !== null) throw notMember();
    return m;
  }

  /**
   * Adds (or re-adds, for former members) these users as plain members, at the transaction's time,
   * having read everything so far (the group's row is locked: its lastSeq is the newest number).
   */
  async function insertMembers(sql: SqlFn, groupId: string, userIds: string[], role: GroupRole = 'member'): Promise<GroupMemberEntryRow[]> {
    return sql<GroupMemberEntryRow>(
      `INSERT INTO ${MEMBER} ("groupId", "userId", role, "joinedAt", "readAt", "readSeq", "sentSinceRead")
       SELECT $1::uuid, u, $3::text, ${now}, ${now}, (SELECT "lastSeq" FROM ${GROUP} WHERE id = $1::uuid), 0 FROM unnest($2::text[]) u
       ON CONFLICT ("groupId", "userId") DO UPDATE SET role = EXCLUDED.role, "joinedAt" = EXCLUDED."joinedAt",
         "readAt" = EXCLUDED."readAt", "readSeq" = EXCLUDED."readSeq", "sentSinceRead" = 0, "leftAt" = NULL
       RETURNING "userId", role, "joinedAt" AT TIME ZONE 'UTC' AS "joinedAt"`,
      [groupId, userIds, role],
    );
  }

  /** Moves the member count by `delta` under the limit; GROUP_FULL (and the transaction rolls back) beyond it. */
  async function countMembers(sql: SqlFn, groupId: string, delta: number): Promise<GroupRow> {
    const [g] = await sql<GroupRow>(
      `UPDATE ${GROUP} SET "memberCount" = "memberCount" + $2::int WHERE id = $1::uuid AND "memberCount" + $2::int <= $3::int RETURNING ${COLS}`,
      [groupId, delta, maxMembers],
    );
    if (!g) throw full(maxMembers);
    return g;
  }

  /** Stores a GROUP_EVENT notice in the group's timeline, at the transaction's time. It takes no number (seq.ts): notices never count as unread. */
  async function insertNotice(sql: SqlFn, groupId: string, metadata: GroupEventMetadata): Promise<GroupWireMessage> {
    const [row] = await sql<Message>(
      `INSERT INTO ${MESSAGE} (id, "groupId", "messageType", content, metadata, "createdAt")
       VALUES ($1::uuid, $2::uuid, 'GROUP_EVENT', $3::text, $4::text::jsonb, ${now}) RETURNING ${MESSAGE_COLUMNS}`,
      [uuidv7(), groupId, noticeText(metadata), JSON.stringify(metadata)],
    );
    return toWire(row!) as GroupWireMessage;
  }

  const notice = (event: GroupEventKind, actor: PublicUser, more: { users?: PublicUser[]; name?: string } = {}): GroupEventMetadata => ({
    event,
    actor,
    ...more,
  });

  /** After commit: the notice, the membership event, the room changes, in that order. */
  function announce(by: string, a: Announcement): void {
    const room = groupRoom(a.group.id);
    // Users who join hear everything from the notice on; users who leave hear it before they go.
    if (a.rooms?.member) rooms.changed({ groupId: a.group.id, ...a.rooms });
    if (a.notice) bus.emit(room, 'chat:message', { message: a.notice });
    if (a.member) {
      // To the members and to the users it concerns (they may no longer be members).
      bus.emit([room, ...a.member.userIds], 'group:member', { groupId: a.group.id, ...a.member, by, group: a.group });
    }
    if (a.newOwner) {
      bus.emit(room, 'group:member', { groupId: a.group.id, event: 'role', userIds: [a.newOwner], role: 'owner', by, group: a.group });
    }
    if (a.rooms && !a.rooms.member) rooms.changed({ groupId: a.group.id, ...a.rooms });
  }

  const toMemberEntry = (user: PublicUser, row: { role: GroupRole; joinedAt: Date; readAt?: Date }): GroupMemberEntry => ({
    user,
    role: row.role,
    joinedAt: row.joinedAt.toISOString(),
    ...(row.readAt ? { readAt: row.readAt.toISOString() } : {}),
  });

  /** Every one of `ids` is a friend of `me` (NOT_FRIENDS), and a user the host knows (404). */
  async function requireFriends(me: string, ids: string[], known: Map<string, PublicUser>): Promise<void> {
    for (const id of ids) {
      if (!known.has(id)) throw notFound('User');
      if (!(await friends.areFriends(me, id))) throw new AppError('NOT_FRIENDS', 'You can only add your friends to a group');
    }
  }

  // ---- reads ----

  // My current groups, each with my role, my unread count, whether I muted it, and its newest
  // message (its columns as they are, the group's prefixed "g."), newest activity first: one
  // statement, a probe per group for the newest message, the unread count from numbers (seq.ts).
  const LIST = `
    SELECT g.id AS "g.id", g.name AS "g.name", g."avatarUrl" AS "g.avatarUrl", g.visibility AS "g.visibility",
           g."ownerId" AS "g.ownerId", g."memberCount" AS "g.memberCount", g."createdAt" AT TIME ZONE 'UTC' AS "g.createdAt",
           gm.role AS "g.role", ${unreadSql(MESSAGE)} AS "g.unread",
           EXISTS (SELECT 1 FROM ${db.table('Mute')} mu WHERE mu."userId" = $1::text AND mu.kind = 'group' AND mu."targetId" = g.id::text
                     AND (mu."until" IS NULL OR mu."until" > ${now})) AS "g.muted",
           last.*
    FROM ${MEMBER} gm JOIN ${GROUP} g ON g.id = gm."groupId"
    LEFT JOIN LATERAL (
      SELECT ${MESSAGE_COLUMNS} FROM ${MESSAGE} m WHERE m."groupId" = g.id AND m."deletedAt" IS NULL
      ORDER BY m."createdAt" DESC, m.id DESC LIMIT 1) last ON true
    WHERE gm."userId" = $1::text AND gm."leftAt" IS NULL
    ORDER BY coalesce(last."createdAt", g."createdAt" AT TIME ZONE 'UTC') DESC, g.id DESC`;

  /** My current groups with role, unread, newest message and mute, newest activity first. */
  async function list(me: string): Promise<GroupListEntry[]> {
    const rows = await db.sql<Record<string, unknown>>(LIST, [me]);
    const group = (r: Record<string, unknown>) => ({
      row: {
        id: r['g.id'],
        name: r['g.name'],
        avatarUrl: r['g.avatarUrl'],
        visibility: r['g.visibility'],
        ownerId: r['g.ownerId'],
        memberCount: r['g.memberCount'],
        createdAt: r['g.createdAt'],
      } as GroupRow,
      role: r['g.role'] as GroupRole,
      unread: r['g.unread'] as number,
      muted: r['g.muted'] as boolean,
    });
    const messages = rows.flatMap((r) => (r.id === null ? [] : [Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('g.'))) as unknown as Message]));
    const byId = new Map((await present(messages)).map((m) => [m.id, m as GroupWireMessage]));
    return rows.map((r) => {
      const { row, role, unread: n, muted } = group(r);
      return { group: toGroupInfo(row), role, unread: Math.max(n, 0), lastMessage: (r.id !== null && byId.get(r.id as string)) || null, muted };
    });
  }

  return {
    list,

    /** The ids of the groups `me` is a member of now. */
    async currentGroupIds(me: string): Promise<string[]> {
      const rows = await db.sql<{ groupId: string }>(`SELECT "groupId" FROM ${MEMBER} WHERE "userId" = $1::text AND "leftAt" IS NULL`, [me]);
      return rows.map((r) => r.groupId);
    },

    /** Groups for the conversations list, beside the direct ones (chat/service.ts). */
    async conversations(me: string): Promise<GroupConversationEntry[]> {
      return (await list(me)).flatMap((e) =>
        e.lastMessage ? [{ group: e.group, lastMessage: e.lastMessage, unread: e.unread, updatedAt: e.lastMessage.createdAt, muted: e.muted }] : [],
      );
    },

    /** Public groups, newest first, their name containing `q` (any case); cursor-paged. */
    async discover(q: string, cursor: string | undefined, limit: number): Promise<{ groups: GroupInfo[]; nextCursor: string | null }> {
      const params: unknown[] = [limit + 1];
      let where = `visibility = 'public'`;
      if (q) {
        params.push(`%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
        where += ` AND name ILIKE $${params.length}`;
      }
      if (cursor) {
        const p: Position = decodeCursor(cursor);
        params.push(p.createdAt.toISOString(), p.id);
        const t = `($${params.length - 1}::timestamptz AT TIME ZONE 'UTC')`;
        where += ` AND ("createdAt" < ${t} OR ("createdAt" = ${t} AND id < $${params.length}::uuid))`;
      }
      const rows = await db.sql<GroupRow>(`SELECT ${COLS} FROM ${GROUP} WHERE ${where} ORDER BY "createdAt" DESC, id DESC LIMIT $1`, params);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        groups: page.map(toGroupInfo),
        nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
      };
    },

    /** The group and its current members (owner, admins, then members, each by join time): members only, or anyone for a public group. */
    async details(me: string, groupId: string): Promise<{ group: GroupInfo; members: GroupMemberEntry[] }> {
      const { group, member } = await groupAccess(db, groupId, me);
      if (!group) throw notFound('Group');
      if (group.visibility !== 'public' && (!member || member.leftAt !== null)) throw notMember();
      const rows = await db.sql<{ userId: string; role: GroupRole; joinedAt: Date; readAt: Date }>(
        `SELECT "userId", role, "joinedAt" AT TIME ZONE 'UTC' AS "joinedAt", "readAt" AT TIME ZONE 'UTC' AS "readAt" FROM ${MEMBER}
         WHERE "groupId" = $1::uuid AND "leftAt" IS NULL`,
        [groupId],
      );
      rows.sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role] || a.joinedAt.getTime() - b.joinedAt.getTime() || (a.userId < b.userId ? -1 : 1));
      const known = await publicUsers(rows.map((r) => r.userId));
      return {
        group: toGroupInfo(group),
        // A user the host no longer knows is left out (they cannot be shown).
        members: rows.flatMap((r) => {
          const user = known.get(r.userId);
          return user ? [toMemberEntry(user, r)] : [];
        }),
      };
    },

    // ---- membership ----

    /** A group of mine with friends of mine: I am its owner. */
    async create(me: string, input: { name: string; memberIds: string[]; visibility: GroupVisibility }): Promise<GroupInfo> {
      const name = filter.apply(input.name);
      const others = [...new Set(input.memberIds)].filter((id) => id !== me);
      if (others.length + 1 > maxMembers) throw full(maxMembers);
      const known = await publicUsers([me, ...others]);
      const actor = known.get(me);
      if (!actor) throw new AppError('UNAUTHORIZED', 'Unknown user');
      await requireFriends(me, others, known);
      const id = uuidv7();
      const result = await db.transaction(async (sql) => {
        const [g] = await sql<GroupRow>(
          `INSERT INTO ${GROUP} (id, name, visibility, "ownerId", "memberCount", "createdAt")
           VALUES ($1::uuid, $2::text, $3::text, $4::text, $5::int, ${now}) RETURNING ${COLS}`,
          [id, name, input.visibility, me, others.length + 1],
        );
        await insertMembers(sql, id, [me], 'owner');
        if (others.length) await insertMembers(sql, id, others);
        const n = await insertNotice(sql, id, notice('created', actor, { users: others.map((o) => known.get(o)!), name }));
        return { group: toGroupInfo(g!), notice: n };
      });
      // Every member's tabs (the creator's other tabs too) learn they are in it.
      announce(me, { ...result, member: { event: 'added', userIds: [me, ...others] }, rooms: { userIds: [me, ...others], member: true } });
      return result.group;
    },

    /** A member adds friends of theirs; users already members are skipped. */
    async addMembers(me: string, groupId: string, userIds: string[]): Promise<{ added: GroupMemberEntry[] }> {
      const ids = [...new Set(userIds)].filter((id) => id !== me);
      // Membership first: a non-member learns nothing about who is a friend.
      await requireMember(db, groupId, me);
      const known = await publicUsers([me, ...ids]);
      const actor = known.get(me);
      if (!actor) throw new AppError('UNAUTHORIZED', 'Unknown user');
      await requireFriends(me, ids, known);
      const result = await db.transaction(async (sql) => {
        await lockGroup(sql, groupId);
        await currentMember(sql, groupId, me);
        const states = await memberStates(sql, groupId, ids);
        const fresh = ids.filter((id) => {
          const s = states.get(id);
          return !s || s.leftAt !== null;
        });
        if (fresh.length === 0) return null;
        const group = await countMembers(sql, groupId, fresh.length);
        const rows = await insertMembers(sql, groupId, fresh);
        const n = await insertNotice(sql, groupId, notice('added', actor, { users: fresh.map((id) => known.get(id)!) }));
        return { group: toGroupInfo(group), notice: n, rows };
      });
      if (!result) return { added: [] };
      const added = result.rows.map((r) => toMemberEntry(known.get(r.userId)!, r));
      const addedIds = added.map((a) => a.user.id);
      announce(me, { group: result.group, notice: result.notice, member: { event: 'added', userIds: addedIds }, rooms: { userIds: addedIds, member: true } });
      return { added };
    },

    /** Anyone joins a public group (a member already: nothing changes). */
    async join(me: string, groupId: string): Promise<GroupInfo> {
      const actor = (await publicUsers([me])).get(me);
      if (!actor) throw new AppError('UNAUTHORIZED', 'Unknown user');
      const result = await db.transaction(async (sql) => {
        const g = await lockGroup(sql, groupId);
        const state = (await memberStates(sql, groupId, [me])).get(me);
        if (state && state.leftAt === null) return { group: toGroupInfo(g), notice: null };
        if (g.visibility !== 'public') throw new AppError('FORBIDDEN', 'This group is private: a member must add you');
        const group = await countMembers(sql, groupId, 1);
        await insertMembers(sql, groupId, [me]);
        const n = await insertNotice(sql, groupId, notice('joined', actor));
        return { group: toGroupInfo(group), notice: n };
      });
      if (result.notice) {
        announce(me, { group: result.group, notice: result.notice, member: { event: 'joined', userIds: [me] }, rooms: { userIds: [me], member: true } });
      }
      return result.group;
    },

    /**
     * Removes a member (owner or admin; the owner cannot be removed, an admin cannot remove an
     * admin), or, for oneself, leaves. When the owner leaves, the oldest admin (else the oldest
     * member) becomes owner; when the last member leaves, the group is gone.
     */
    async removeMember(me: string, groupId: string, userId: string): Promise<void> {
      const known = await publicUsers([me, userId]);
      const actor = known.get(me);
      const target = known.get(userId);
      const leaving = userId === me;
      const result = await db.transaction(async (sql) => {
        await lockGroup(sql, groupId);
        const mine = await currentMember(sql, groupId, me);
        if (!leaving) {
          const theirs = (await memberStates(sql, groupId, [userId])).get(userId);
          if (!theirs || theirs.leftAt !== null) throw notFound('Member');
          if (mine.role === 'member') throw new AppError('FORBIDDEN', 'Only the owner and admins remove members');
          if (theirs.role === 'owner') throw new AppError('FORBIDDEN', 'The owner cannot be removed');
          if (theirs.role === 'admin' && mine.role !== 'owner') throw new AppError('FORBIDDEN', 'Only the owner removes an admin');
        }
        // The time it happened, taken now that the group is locked: the messages sent before it
        // (stored under the same lock) are in the history the former member keeps.
        await sql(`UPDATE ${MEMBER} SET "leftAt" = (clock_timestamp() AT TIME ZONE 'UTC') WHERE "groupId" = $1::uuid AND "userId" = $2::text`, [groupId, userId]);
        const [g] = await sql<GroupRow>(`UPDATE ${GROUP} SET "memberCount" = "memberCount" - 1 WHERE id = $1::uuid RETURNING ${COLS}`, [groupId]);
        if (g!.memberCount === 0) {
          // No members left: the group, its memberships, its messages and its mutes are gone.
          await sql(`DELETE FROM ${GROUP} WHERE id = $1::uuid`, [groupId]);
          await sql(`DELETE FROM ${db.table('Mute')} WHERE kind = 'group' AND "targetId" = $1::text`, [groupId]);
          return { group: toGroupInfo(g!), notice: undefined, gone: true, newOwner: undefined };
        }
        let group = g!;
        let newOwner: string | undefined;
        if (leaving && mine.role === 'owner') {
          const [next] = await sql<{ userId: string }>(
            `SELECT "userId" FROM ${MEMBER} WHERE "groupId" = $1::uuid AND "leftAt" IS NULL
             ORDER BY (role = 'admin') DESC, "joinedAt", "userId" LIMIT 1`,
            [groupId],
          );
          newOwner = next!.userId;
          await sql(`UPDATE ${MEMBER} SET role = 'owner' WHERE "groupId" = $1::uuid AND "userId" = $2::text`, [groupId, newOwner]);
          const [owned] = await sql<GroupRow>(`UPDATE ${GROUP} SET "ownerId" = $2::text WHERE id = $1::uuid RETURNING ${COLS}`, [groupId, newOwner]);
          group = owned!;
        }
        // A user the host no longer knows still leaves; the notice names them by id.
        const unknown = (id: string): PublicUser => ({ id, username: id, displayName: id, avatarUrl: null });
        const meta = leaving
          ? notice('left', actor ?? unknown(me))
          : notice('removed', actor ?? unknown(me), { users: [target ?? unknown(userId)] });
        const n = await insertNotice(sql, groupId, meta);
        return { group: toGroupInfo(group), notice: n, gone: false, newOwner };
      });
      announce(me, {
        group: result.group,
        notice: result.notice,
        member: { event: leaving ? 'left' : 'removed', userIds: [userId] },
        rooms: { userIds: [userId], member: false },
        newOwner: result.newOwner,
      });
      if (result.newOwner) bus.emit(groupRoom(groupId), 'group:update', { group: result.group });
      void unread.push(userId);
    },

    /** The owner makes a member an admin, or an admin a member again. */
    async setRole(me: string, groupId: string, userId: string, role: 'admin' | 'member'): Promise<{ member: GroupMemberEntry }> {
      const user = (await publicUsers([userId])).get(userId);
      const result = await db.transaction(async (sql) => {
        const g = await lockGroup(sql, groupId);
        const mine = await currentMember(sql, groupId, me);
        if (mine.role !== 'owner') throw new AppError('FORBIDDEN', 'Only the owner changes roles');
        const theirs = (await memberStates(sql, groupId, [userId])).get(userId);
        if (!theirs || theirs.leftAt !== null) throw notFound('Member');
        if (userId === me) throw new AppError('FORBIDDEN', 'The owner stays owner until they leave');
        await sql(`UPDATE ${MEMBER} SET role = $3::text WHERE "groupId" = $1::uuid AND "userId" = $2::text`, [groupId, userId, role]);
        return { group: toGroupInfo(g), joinedAt: theirs.joinedAt, changed: theirs.role !== role };
      });
      const member = toMemberEntry(user ?? { id: userId, username: userId, displayName: userId, avatarUrl: null }, { role, joinedAt: result.joinedAt });
      if (result.changed) announce(me, { group: result.group, member: { event: 'role', userIds: [userId], role } });
      return { member };
    },

    /** Owner and admins rename, change the avatar or the visibility. A rename is a notice in the timeline. */
    async update(me: string, groupId: string, patch: GroupPatch): Promise<GroupInfo> {
      const name = patch.name === undefined ? undefined : filter.apply(patch.name);
      const actor = (await publicUsers([me])).get(me);
      if (!actor) throw new AppError('UNAUTHORIZED', 'Unknown user');
      const result = await db.transaction(async (sql) => {
        const before = await lockGroup(sql, groupId);
        const mine = await currentMember(sql, groupId, me);
        if (mine.role === 'member') throw new AppError('FORBIDDEN', 'Only the owner and admins change the group');
        const [g] = await sql<GroupRow>(
          `UPDATE ${GROUP} SET name = coalesce($2::text, name),
             "avatarUrl" = CASE WHEN $3::boolean THEN $4::text ELSE "avatarUrl" END,
             visibility = coalesce($5::text, visibility)
           WHERE id = $1::uuid RETURNING ${COLS}`,
          [groupId, name ?? null, patch.avatarUrl !== undefined, patch.avatarUrl ?? null, patch.visibility ?? null],
        );
        const renamed = name !== undefined && name !== before.name;
        const n = renamed ? await insertNotice(sql, groupId, notice('renamed', actor, { name })) : undefined;
        return { group: toGroupInfo(g!), notice: n };
      });
      announce(me, result);
      bus.emit(groupRoom(groupId), 'group:update', { group: result.group });
      return result.group;
    },

    // ---- messages ----

    /** Like direct history, oldest first within the page; a former member reads up to when they left. */
    async history(me: string, groupId: string, before: string | undefined, limit: number) {
      const cursor = before ? decodeCursor(before) : null;
      const params: unknown[] = [groupId, me, limit + 1];
      if (cursor) params.push(cursor.createdAt.toISOString(), cursor.id);
      // One round trip: the membership check, the page and its reactions (historySql).
      const rows = await db.sql<HistoryRow>(historySql(db, cursor !== null), params);
      if (rows.length === 0) throw notFound('Group');
      if (!rows[0]!.member) throw notMember();
      const page = rows[0]!.id === null ? [] : rows;
      const shown = page.slice(0, limit);
      const oldest = shown.at(-1);
      const reactions = new Map(shown.map((r) => [r.id, r.reactions ?? []]));
      const messages = shown.reverse().map(({ member: _m, reactions: _r, ...m }) => m as Message);
      return {
        messages: (await present(messages, { viewer: me, reactions })) as GroupWireMessage[],
        nextCursor: page.length > limit && oldest ? encodeCursor({ createdAt: oldest.createdAt, id: oldest.id }) : null,
      };
    },

    /**
     * Moves my read position to the newest message (and `readAt` to now). The members (my other
     * tabs among them) get `group:read` when it passed messages of others; my counts are pushed again.
     */
    async markRead(me: string, groupId: string, originSocketId?: string): Promise<{ readAt: string; updated: number }> {
      const row = await db.transaction(async (sql) => {
        // The group's row, shared: a send in flight (it holds the row, seq.ts) is committed first,
        // so lastSeq is the newest number stored, and my own sends are all in sentSinceRead.
        const [g] = await sql<{ lastSeq: string }>(`SELECT "lastSeq"::text AS "lastSeq" FROM ${GROUP} WHERE id = $1::uuid FOR SHARE`, [groupId]);
        if (!g) return undefined;
        // `updated`: the unread count the read clears (from the position before it).
        const [r] = await sql<{ readAt: Date; updated: number }>(
          `UPDATE ${MEMBER} gm SET "readAt" = greatest(gm."readAt", ${now}), "readSeq" = g."lastSeq", "sentSinceRead" = 0
           FROM ${GROUP} g, (SELECT "groupId", "userId", "readSeq", "sentSinceRead" FROM ${MEMBER} WHERE "groupId" = $1::uuid AND "userId" = $2::text) p
           WHERE g.id = $1::uuid AND gm."groupId" = $1::uuid AND gm."userId" = $2::text AND gm."leftAt" IS NULL
           RETURNING gm."readAt" AT TIME ZONE 'UTC' AS "readAt",
             ${unreadSql(MESSAGE, 'p', 'g')} AS updated`,
          [groupId, me],
        );
        return r;
      });
      if (!row) {
        await requireMember(db, groupId, me); // throws 404 or NOT_MEMBER
        throw notMember();
      }
      const readAt = row.readAt.toISOString();
      if (row.updated > 0) {
        bus.emit(groupRoom(groupId), 'group:read', { groupId, userId: me, readAt }, originSocketId);
        await unread.push(me);
      }
      return { readAt, updated: row.updated };
    },

    /** Typing in a group: to the other members (not my own tabs), members only. */
    async typing(me: string, groupId: string, typing: boolean): Promise<void> {
      await requireMember(db, groupId, me);
      bus.emit(groupRoom(groupId), 'chat:typing', { from: me, typing, groupId }, me);
    },

  };
}

interface GroupMemberEntryRow {
  userId: string;
  role: GroupRole;
  joinedAt: Date;
}

export type GroupService = ReturnType<typeof createGroupService>;
