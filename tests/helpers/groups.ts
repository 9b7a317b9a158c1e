// Helpers shared by the group tests: a group of friends in one call, sends, and the stored state
// of a group (to show that a refused request changed nothing).
import { randomUUID } from 'node:crypto';
import type { GroupInfo, WireMessage } from '../../backend/src/realtime/events.ts';
import type { TestServer, TestUser } from './server.ts';

/** Fresh users, each a friend of the first (the owner-to-be). */
export async function usersWithFriend(s: TestServer, n: number): Promise<TestUser[]> {
  const list: TestUser[] = [];
  for (let i = 0; i < n; i++) list.push(await s.register());
  for (const u of list.slice(1)) await s.makeFriends(list[0]!, u);
  return list;
}

/** POST /api/groups by `owner` with `members`; fails the test unless 201. */
export async function createGroup(s: TestServer, owner: TestUser, members: TestUser[], more: { name?: string; visibility?: 'private' | 'public' } = {}): Promise<GroupInfo> {
  const r = await s.request('POST', '/api/groups', {
    token: owner.token,
    body: { name: more.name ?? 'Test group', memberIds: members.map((m) => m.id), ...(more.visibility ? { visibility: more.visibility } : {}) },
  });
  if (r.status !== 201) throw new Error(`create group failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.group as GroupInfo;
}

/** POST /api/groups/:id/messages; answers the stored message, fails the test on any other status. */
export async function sendToGroup(s: TestServer, from: TestUser, groupId: string, content: string, clientId: string = randomUUID()): Promise<WireMessage> {
  const r = await s.request('POST', `/api/groups/${groupId}/messages`, { token: from.token, body: { content, clientId } });
  if (r.status !== 201) throw new Error(`group send failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.message as WireMessage;
}

/** Everything stored about a group: its row, its member rows, its messages (deleted ones included). */
export async function groupState(s: TestServer, groupId: string) {
  const db = s.app.db;
  const [group] = await db.sql(`SELECT * FROM ${db.table('Group')} WHERE id = $1::uuid`, [groupId]);
  const members = await db.sql(`SELECT * FROM ${db.table('GroupMember')} WHERE "groupId" = $1::uuid ORDER BY "userId"`, [groupId]);
  const messages = await db.sql(`SELECT id, "deletedAt" FROM ${db.table('Message')} WHERE "groupId" = $1::uuid ORDER BY id`, [groupId]);
  return { group: group ?? null, members, messages };
}

/** Everything stored in the module's group and mute tables, for requests that name no existing group. */
export async function allGroupState(s: TestServer) {
  const db = s.app.db;
  const count = async (t: string) => (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.table(t)}`))[0]!.n;
  return {
    groups: await count('Group'),
    members: await count('GroupMember'),
    mutes: await count('Mute'),
    messages: (await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.table('Message')} WHERE "groupId" IS NOT NULL`))[0]!.n,
  };
}
