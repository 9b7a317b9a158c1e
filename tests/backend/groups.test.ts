// Issue 12, group chat over HTTP (DESIGN.md, "Groups"): create with friends, add, join, leave,
// remove, roles, rename, ownership, the size limit, and every bad input of the issue — each
// answered with the contract's code, and nothing stored changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GroupEventWireMessage, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { allGroupState, createGroup, groupState, sendToGroup, usersWithFriend } from '../helpers/groups.ts';

const BAD_ID = 'not-a-uuid';
const UNKNOWN = '00000000-0000-4000-8000-000000000001';

describe.each(dbTargets())('groups over HTTP on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const get = (u: TestUser, path: string) => s.request('GET', path, { token: u.token });
  const post = (u: TestUser, path: string, body?: unknown) => s.request('POST', path, { token: u.token, body });
  const patch = (u: TestUser, path: string, body?: unknown) => s.request('PATCH', path, { token: u.token, body });
  const del = (u: TestUser, path: string) => s.request('DELETE', path, { token: u.token });
  const timeline = async (u: TestUser, groupId: string): Promise<WireMessage[]> => (await get(u, `/api/groups/${groupId}/messages`)).body.messages;
  const events = async (u: TestUser, groupId: string) =>
    (await timeline(u, groupId)).filter((m): m is GroupEventWireMessage => m.messageType === 'GROUP_EVENT').map((m) => m.metadata);
  /** The request must fail with `status`/`code`, and the group's stored state must stay as it was. */
  async function refused(groupId: string, status: number, code: string, request: () => Promise<{ status: number; body: { error?: { code: string } } }>) {
    const before = await groupState(s, groupId);
    const r = await request();
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
    expect(await groupState(s, groupId)).toEqual(before);
  }
  /** The same, for requests that name no group that exists: no group, member, mute or group message appears. */
  async function refusedAnywhere(status: number, code: string, request: () => Promise<{ status: number; body: { error?: { code: string } } }>) {
    const before = await allGroupState(s);
    const r = await request();
    expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status, code });
    expect(await allGroupState(s)).toEqual(before);
  }

  describe('create', () => {
    it('creates a private group of the creator and friends: owner, members, a "created" notice', async () => {
      const [alice, bob, carol] = await usersWithFriend(s, 3);
      const r = await post(alice!, '/api/groups', { name: '  Weekend trip  ', memberIds: [bob!.id, carol!.id] });
      expect(r.status).toBe(201);
      expect(r.body.group).toMatchObject({ name: 'Weekend trip', visibility: 'private', ownerId: alice!.id, memberCount: 3, avatarUrl: null });
      expect(r.body.group.id).toMatch(/^[0-9a-f-]{36}$/);
      const details = await get(bob!, `/api/groups/${r.body.group.id}`);
      expect(details.status).toBe(200);
      // The owner first; bob and carol joined at the same moment.
      const roles = details.body.members.map((m: { user: { id: string }; role: string }) => [m.user.id, m.role]);
      expect(roles[0]).toEqual([alice!.id, 'owner']);
      expect(roles.slice(1).sort()).toEqual([[bob!.id, 'member'], [carol!.id, 'member']].sort());
      expect(Object.keys(details.body.members[0].user).sort()).toEqual(['avatarUrl', 'displayName', 'id', 'username']);
      const [created] = await timeline(carol!, r.body.group.id);
      expect(created).toMatchObject({ messageType: 'GROUP_EVENT', groupId: r.body.group.id, toUserId: null, fromUserId: null, isRead: false });
      expect((created as GroupEventWireMessage).metadata).toEqual({
        event: 'created',
        actor: { id: alice!.id, username: alice!.username, displayName: alice!.displayName, avatarUrl: null },
        users: [bob, carol].map((u) => ({ id: u!.id, username: u!.username, displayName: u!.displayName, avatarUrl: null })),
        name: 'Weekend trip',
      });
    });

    it('refuses a member who is not a friend (NOT_FRIENDS) or not a user (404), storing nothing', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const stranger = await s.register();
      await refusedAnywhere(403, 'NOT_FRIENDS', () => post(alice!, '/api/groups', { name: 'G', memberIds: [bob!.id, stranger.id] }));
      await refusedAnywhere(404, 'NOT_FOUND', () => post(alice!, '/api/groups', { name: 'G', memberIds: ['no-such-user'] }));
      // Half a friendship (a follow one way) is not friendship.
      await s.follow(alice!, stranger);
      await refusedAnywhere(403, 'NOT_FRIENDS', () => post(alice!, '/api/groups', { name: 'G', memberIds: [stranger.id] }));
    });

    it('takes names of 1–50 characters after trimming, and refuses empty, only spaces, over 50, not text', async () => {
      const [alice] = await usersWithFriend(s, 1);
      for (const name of ['', '   ', '\u3000\t\n', 'x'.repeat(51), ' '.repeat(3) + 'y'.repeat(51), 42, null, 'a\u0000b', '\ud800']) {
        await refusedAnywhere(400, 'VALIDATION', () => post(alice!, '/api/groups', { name, memberIds: [] }));
      }
      expect((await post(alice!, '/api/groups', { name: 'x'.repeat(50), memberIds: [] })).status).toBe(201);
      // Characters, not UTF-16 units: 50 emoji are 50 characters.
      expect((await post(alice!, '/api/groups', { name: '🙂'.repeat(50), memberIds: [] })).body.group.name).toBe('🙂'.repeat(50));
      expect((await post(alice!, '/api/groups', { name: '  中文群  ', memberIds: [] })).body.group.name).toBe('中文群');
    });

    it('refuses malformed bodies: memberIds not a list of user ids, an unknown visibility, unknown fields', async () => {
      const [alice] = await usersWithFriend(s, 1);
      for (const body of [
        { name: 'G' },
        { name: 'G', memberIds: 'bob' },
        { name: 'G', memberIds: [42] },
        { name: 'G', memberIds: ['x'.repeat(65)] },
        { name: 'G', memberIds: [], visibility: 'secret' },
        { name: 'G', memberIds: [], ownerId: 'someone' },
        [],
      ]) {
        await refusedAnywhere(400, 'VALIDATION', () => post(alice!, '/api/groups', body));
      }
      await refusedAnywhere(400, 'VALIDATION', () => s.request('POST', '/api/groups', { token: alice!.token, raw: '{"name":' }));
    });
  });

  describe('ids', () => {
    it('answers 400 VALIDATION for a group id of another type on every route, 404 for a well-formed unknown one, and changes nothing', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const routes: [string, string, unknown?][] = [
        ['GET', '/api/groups/:id'],
        ['PATCH', '/api/groups/:id', { name: 'New' }],
        ['POST', '/api/groups/:id/members', { userIds: [bob!.id] }],
        ['POST', '/api/groups/:id/join'],
        ['DELETE', `/api/groups/:id/members/${bob!.id}`],
        ['PATCH', `/api/groups/:id/members/${bob!.id}`, { role: 'admin' }],
        ['GET', '/api/groups/:id/messages'],
        ['POST', '/api/groups/:id/messages', { content: 'hi' }],
        ['POST', '/api/groups/:id/read'],
        ['PUT', '/api/mutes/group/:id'],
        ['DELETE', '/api/mutes/group/:id'],
      ];
      for (const [method, path, body] of routes) {
        for (const bad of [BAD_ID, '123', `${UNKNOWN}0`]) {
          await refusedAnywhere(400, 'VALIDATION', () => s.request(method, path.replace(':id', bad), { token: alice!.token, body }));
        }
        // DELETE of a mute that does not exist changes nothing either way.
        if (method === 'DELETE' && path.startsWith('/api/mutes')) continue;
        await refusedAnywhere(404, 'NOT_FOUND', () => s.request(method, path.replace(':id', UNKNOWN), { token: alice!.token, body }));
      }
    });

    it('needs a session on every group route', async () => {
      for (const [method, path] of [
        ['GET', '/api/groups'],
        ['POST', '/api/groups'],
        ['GET', '/api/groups/discover'],
        ['GET', `/api/groups/${UNKNOWN}`],
        ['PUT', `/api/mutes/group/${UNKNOWN}`],
      ] as const) {
        const r = await s.request(method, path);
        expect([path, r.status, r.body.error.code]).toEqual([path, 401, 'UNAUTHORIZED']);
      }
    });
  });

  describe('members', () => {
    it('lets any member add friends of their own; refuses non-friends, non-members and former members', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const carol = await s.register();
      const dave = await s.register();
      await s.makeFriends(bob!, carol);
      const group = await createGroup(s, alice!, [bob!]);
      // A plain member adds their own friend (not a friend of the owner's).
      const r = await post(bob!, `/api/groups/${group.id}/members`, { userIds: [carol.id] });
      expect(r.status).toBe(200);
      expect(r.body.added.map((m: { user: { id: string }; role: string }) => [m.user.id, m.role])).toEqual([[carol.id, 'member']]);
      expect((await get(alice!, `/api/groups/${group.id}`)).body.group.memberCount).toBe(3);
      expect((await events(alice!, group.id)).at(-1)).toMatchObject({ event: 'added', actor: { id: bob!.id }, users: [{ id: carol.id }] });
      // Adding someone already in: nothing added, no notice.
      const again = await post(bob!, `/api/groups/${group.id}/members`, { userIds: [carol.id, alice!.id] });
      expect(again.body).toEqual({ added: [] });
      expect(await events(alice!, group.id)).toHaveLength(2);

      await refused(group.id, 403, 'NOT_FRIENDS', () => post(carol, `/api/groups/${group.id}/members`, { userIds: [dave.id] }));
      // All or nothing: one non-friend in the list adds no one.
      await s.makeFriends(carol, dave);
      const eve = await s.register();
      await refused(group.id, 403, 'NOT_FRIENDS', () => post(carol, `/api/groups/${group.id}/members`, { userIds: [dave.id, eve.id] }));
      await refused(group.id, 403, 'NOT_MEMBER', () => post(dave, `/api/groups/${group.id}/members`, { userIds: [carol.id] }));
      await refused(group.id, 404, 'NOT_FOUND', () => post(carol, `/api/groups/${group.id}/members`, { userIds: ['no-such-user'] }));
      for (const body of [{}, { userIds: [] }, { userIds: 'x' }, { userIds: [1] }]) {
        await refused(group.id, 400, 'VALIDATION', () => post(carol, `/api/groups/${group.id}/members`, body));
      }
      expect((await del(carol, `/api/groups/${group.id}/members/${carol.id}`)).status).toBe(204);
      await refused(group.id, 403, 'NOT_MEMBER', () => post(carol, `/api/groups/${group.id}/members`, { userIds: [dave.id] }));
    });

    it('lets anyone join a public group, and no one join a private one', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const stranger = await s.register();
      const open = await createGroup(s, alice!, [bob!], { visibility: 'public' });
      const closed = await createGroup(s, alice!, [bob!]);
      const r = await post(stranger, `/api/groups/${open.id}/join`);
      expect(r.status).toBe(200);
      expect(r.body.group).toMatchObject({ id: open.id, memberCount: 3 });
      expect((await events(bob!, open.id)).at(-1)).toMatchObject({ event: 'joined', actor: { id: stranger.id } });
      // Joining again changes nothing.
      await refusedOrSame(open.id, () => post(stranger, `/api/groups/${open.id}/join`));
      await refused(closed.id, 403, 'FORBIDDEN', () => post(stranger, `/api/groups/${closed.id}/join`));
    });

    async function refusedOrSame(groupId: string, request: () => Promise<{ status: number }>) {
      const before = await groupState(s, groupId);
      expect((await request()).status).toBe(200);
      expect(await groupState(s, groupId)).toEqual(before);
    }

    it('lets the owner and admins remove members; never the owner; an admin not another admin; a member no one', async () => {
      const [owner, admin1, admin2, m1, m2] = await usersWithFriend(s, 5);
      const group = await createGroup(s, owner!, [admin1!, admin2!, m1!, m2!]);
      for (const a of [admin1!, admin2!]) expect((await patch(owner!, `/api/groups/${group.id}/members/${a.id}`, { role: 'admin' })).status).toBe(200);

      await refused(group.id, 403, 'FORBIDDEN', () => del(m1!, `/api/groups/${group.id}/members/${m2!.id}`));
      await refused(group.id, 403, 'FORBIDDEN', () => del(admin1!, `/api/groups/${group.id}/members/${owner!.id}`));
      await refused(group.id, 403, 'FORBIDDEN', () => del(admin1!, `/api/groups/${group.id}/members/${admin2!.id}`));
      await refused(group.id, 404, 'NOT_FOUND', () => del(admin1!, `/api/groups/${group.id}/members/not-a-member`));
      await refused(group.id, 400, 'VALIDATION', () => del(admin1!, `/api/groups/${group.id}/members/${'x'.repeat(65)}`));

      expect((await del(admin1!, `/api/groups/${group.id}/members/${m1!.id}`)).status).toBe(204);
      expect((await events(owner!, group.id)).at(-1)).toMatchObject({ event: 'removed', actor: { id: admin1!.id }, users: [{ id: m1!.id }] });
      // The owner removes an admin.
      expect((await del(owner!, `/api/groups/${group.id}/members/${admin2!.id}`)).status).toBe(204);
      const { body } = await get(owner!, `/api/groups/${group.id}`);
      expect(body.group.memberCount).toBe(3);
      expect(body.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual([owner!.id, admin1!.id, m2!.id].sort());
      // Removed members cannot act, nor be removed again.
      await refused(group.id, 403, 'NOT_MEMBER', () => del(m1!, `/api/groups/${group.id}/members/${m2!.id}`));
      await refused(group.id, 404, 'NOT_FOUND', () => del(owner!, `/api/groups/${group.id}/members/${m1!.id}`));
    });

    it('lets only the owner change roles, to admin or member', async () => {
      const [owner, a, b] = await usersWithFriend(s, 3);
      const group = await createGroup(s, owner!, [a!, b!]);
      const r = await patch(owner!, `/api/groups/${group.id}/members/${a!.id}`, { role: 'admin' });
      expect(r.status).toBe(200);
      expect(r.body.member).toMatchObject({ user: { id: a!.id }, role: 'admin' });
      await refused(group.id, 403, 'FORBIDDEN', () => patch(a!, `/api/groups/${group.id}/members/${b!.id}`, { role: 'admin' }));
      await refused(group.id, 403, 'FORBIDDEN', () => patch(b!, `/api/groups/${group.id}/members/${a!.id}`, { role: 'member' }));
      await refused(group.id, 403, 'FORBIDDEN', () => patch(owner!, `/api/groups/${group.id}/members/${owner!.id}`, { role: 'member' }));
      for (const body of [{ role: 'owner' }, { role: 'boss' }, {}, { role: 'admin', extra: 1 }]) {
        await refused(group.id, 400, 'VALIDATION', () => patch(owner!, `/api/groups/${group.id}/members/${b!.id}`, body));
      }
      await refused(group.id, 404, 'NOT_FOUND', () => patch(owner!, `/api/groups/${group.id}/members/nobody`, { role: 'admin' }));
      expect((await patch(owner!, `/api/groups/${group.id}/members/${a!.id}`, { role: 'member' })).body.member.role).toBe('member');
    });

    it('passes ownership to the oldest admin, else the oldest member, when the owner leaves; an empty group is gone', async () => {
      const [owner, m1, m2, m3] = await usersWithFriend(s, 4);
      const group = await createGroup(s, owner!, [m1!]);
      await post(owner!, `/api/groups/${group.id}/members`, { userIds: [m2!.id] });
      await post(owner!, `/api/groups/${group.id}/members`, { userIds: [m3!.id] });
      await patch(owner!, `/api/groups/${group.id}/members/${m3!.id}`, { role: 'admin' });
      await patch(owner!, `/api/groups/${group.id}/members/${m2!.id}`, { role: 'admin' });
      expect((await del(owner!, `/api/groups/${group.id}/members/${owner!.id}`)).status).toBe(204);
      // m2 joined before m3: the oldest admin.
      let details = (await get(m1!, `/api/groups/${group.id}`)).body;
      expect(details.group.ownerId).toBe(m2!.id);
      expect(details.members.map((m: { user: { id: string }; role: string }) => [m.user.id, m.role])).toEqual([
        [m2!.id, 'owner'],
        [m3!.id, 'admin'],
        [m1!.id, 'member'],
      ]);
      // No admin left: the oldest member.
      await del(m3!, `/api/groups/${group.id}/members/${m3!.id}`);
      await del(m2!, `/api/groups/${group.id}/members/${m2!.id}`);
      details = (await get(m1!, `/api/groups/${group.id}`)).body;
      expect(details.group).toMatchObject({ ownerId: m1!.id, memberCount: 1 });
      await sendToGroup(s, m1!, group.id, 'anyone here?');
      expect((await del(m1!, `/api/groups/${group.id}/members/${m1!.id}`)).status).toBe(204);
      expect(await groupState(s, group.id)).toEqual({ group: null, members: [], messages: [] });
      expect((await get(m1!, `/api/groups/${group.id}`)).status).toBe(404);
      expect((await get(owner!, `/api/groups/${group.id}/messages`)).status).toBe(404);
    });

    it('refuses the member beyond GROUP_MAX_MEMBERS (default 500) with GROUP_FULL, changing nothing', async () => {
      const [owner, friend, another] = await usersWithFriend(s, 3);
      const group = await createGroup(s, owner!, []);
      // 499 more members, straight into the tables: 500 in all.
      const db = s.app.db;
      await db.sql(
        `INSERT INTO ${db.table('GroupMember')} ("groupId", "userId") SELECT $1::uuid, 'filler-' || i FROM generate_series(1, 499) i`,
        [group.id],
      );
      await db.sql(`UPDATE ${db.table('Group')} SET "memberCount" = 500 WHERE id = $1::uuid`, [group.id]);
      await refused(group.id, 400, 'GROUP_FULL', () => post(owner!, `/api/groups/${group.id}/members`, { userIds: [friend!.id] }));
      await refused(group.id, 400, 'GROUP_FULL', () => post(owner!, `/api/groups/${group.id}/members`, { userIds: [friend!.id, another!.id] }));
      await patch(owner!, `/api/groups/${group.id}`, { visibility: 'public' });
      const stranger = await s.register();
      await refused(group.id, 400, 'GROUP_FULL', () => post(stranger, `/api/groups/${group.id}/join`));
      // One leaves: one may come in.
      await del(owner!, `/api/groups/${group.id}/members/filler-1`);
      expect((await post(stranger, `/api/groups/${group.id}/join`)).status).toBe(200);
      await refused(group.id, 400, 'GROUP_FULL', () => post(owner!, `/api/groups/${group.id}/members`, { userIds: [friend!.id] }));
    });

    it('refuses to create a group over the limit', async () => {
      const [owner] = await usersWithFriend(s, 1);
      const ids = Array.from({ length: 500 }, (_, i) => `someone-${i}`);
      await refusedAnywhere(400, 'GROUP_FULL', () => post(owner!, '/api/groups', { name: 'Too big', memberIds: ids }));
    });
  });

  describe('settings', () => {
    it('lets the owner and admins rename (a notice), set the avatar and the visibility; members and others not', async () => {
      const [owner, admin, member] = await usersWithFriend(s, 3);
      const outsider = await s.register();
      const group = await createGroup(s, owner!, [admin!, member!], { name: 'Old' });
      await patch(owner!, `/api/groups/${group.id}/members/${admin!.id}`, { role: 'admin' });
      const r = await patch(admin!, `/api/groups/${group.id}`, { name: ' New name ', avatarUrl: 'https://img.example/a.png', visibility: 'public' });
      expect(r.status).toBe(200);
      expect(r.body.group).toMatchObject({ name: 'New name', avatarUrl: 'https://img.example/a.png', visibility: 'public' });
      expect((await events(member!, group.id)).at(-1)).toEqual({
        event: 'renamed',
        actor: { id: admin!.id, username: admin!.username, displayName: admin!.displayName, avatarUrl: null },
        name: 'New name',
      });
      // Avatar and visibility alone: no notice.
      const notices = (await events(member!, group.id)).length;
      expect((await patch(owner!, `/api/groups/${group.id}`, { avatarUrl: null, visibility: 'private' })).body.group).toMatchObject({
        avatarUrl: null,
        visibility: 'private',
        name: 'New name',
      });
      expect(await events(member!, group.id)).toHaveLength(notices);

      await refused(group.id, 403, 'FORBIDDEN', () => patch(member!, `/api/groups/${group.id}`, { name: 'Mine now' }));
      await refused(group.id, 403, 'NOT_MEMBER', () => patch(outsider, `/api/groups/${group.id}`, { name: 'Mine now' }));
      for (const body of [{}, { name: '' }, { name: '   ' }, { name: 'x'.repeat(51) }, { visibility: 'hidden' }, { avatarUrl: 'javascript:alert(1)' }, { avatarUrl: 42 }, { ownerId: outsider.id }]) {
        await refused(group.id, 400, 'VALIDATION', () => patch(owner!, `/api/groups/${group.id}`, body));
      }
    });

    it('shows a private group to its members only, a public one to anyone', async () => {
      const [owner, member] = await usersWithFriend(s, 2);
      const outsider = await s.register();
      const closed = await createGroup(s, owner!, [member!]);
      const open = await createGroup(s, owner!, [member!], { visibility: 'public' });
      expect((await get(member!, `/api/groups/${closed.id}`)).status).toBe(200);
      expect((await get(outsider, `/api/groups/${closed.id}`)).body.error.code).toBe('NOT_MEMBER');
      expect((await get(outsider, `/api/groups/${open.id}`)).body.members).toHaveLength(2);
    });
  });

  describe('messages', () => {
    it('sends like direct chat: 201, idempotent clientId, history oldest first in pages', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const group = await createGroup(s, alice!, [bob!]);
      const first = await sendToGroup(s, alice!, group.id, '  hello group  ', 'c-1');
      expect(first).toMatchObject({ groupId: group.id, toUserId: null, fromUserId: alice!.id, messageType: 'CHAT', content: 'hello group', clientId: 'c-1' });
      const again = await s.request('POST', `/api/groups/${group.id}/messages`, { token: alice!.token, body: { content: 'other text', clientId: 'c-1' } });
      expect(again.status).toBe(201);
      expect(again.body.message).toEqual(first);
      // The same clientId for a direct message is another conversation.
      expect((await post(alice!, `/api/messages/${bob!.id}`, { content: 'x', clientId: 'c-1' })).body.error.code).toBe('CONFLICT');
      for (let i = 0; i < 5; i++) await sendToGroup(s, i % 2 ? alice! : bob!, group.id, `m${i}`);
      const page1 = await get(bob!, `/api/groups/${group.id}/messages?limit=3`);
      expect(page1.body.messages.map((m: WireMessage) => m.content)).toEqual(['m2', 'm3', 'm4']);
      const page2 = await get(bob!, `/api/groups/${group.id}/messages?limit=3&before=${page1.body.nextCursor}`);
      expect(page2.body.messages.map((m: WireMessage) => m.content)).toEqual(['hello group', 'm0', 'm1']);
      const page3 = await get(bob!, `/api/groups/${group.id}/messages?limit=3&before=${page2.body.nextCursor}`);
      expect(page3.body.messages.map((m: WireMessage) => m.messageType)).toEqual(['GROUP_EVENT']);
      expect(page3.body.nextCursor).toBeNull();
      // Direct history is untouched by group messages.
      expect((await get(bob!, `/api/messages/${alice!.id}`)).body.messages).toEqual([]);
    });

    it('refuses sending and reading to non-members and former members (NOT_MEMBER); a former member reads up to leaving', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const outsider = await s.register();
      const group = await createGroup(s, alice!, [bob!]);
      await sendToGroup(s, alice!, group.id, 'before bob left');
      expect((await del(bob!, `/api/groups/${group.id}/members/${bob!.id}`)).status).toBe(204);
      await sendToGroup(s, alice!, group.id, 'after bob left');
      for (const u of [bob!, outsider]) {
        await refused(group.id, 403, 'NOT_MEMBER', () => post(u, `/api/groups/${group.id}/messages`, { content: 'let me in' }));
        await refused(group.id, 403, 'NOT_MEMBER', () => post(u, `/api/groups/${group.id}/read`));
      }
      expect((await get(outsider, `/api/groups/${group.id}/messages`)).body.error.code).toBe('NOT_MEMBER');
      const seen = await timeline(bob!, group.id);
      expect(seen.map((m) => (m.messageType === 'GROUP_EVENT' ? (m as GroupEventWireMessage).metadata.event : m.content))).toEqual(['created', 'before bob left', 'left']);
      // Alice sees everything.
      expect((await timeline(alice!, group.id)).map((m) => m.content).at(-1)).toBe('after bob left');
    });

    it('refuses bad content like direct chat (400), storing nothing', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const group = await createGroup(s, alice!, [bob!]);
      for (const body of [{}, { content: '' }, { content: '   ' }, { content: 'x'.repeat(2001) }, { content: 1 }, { content: 'hi', to: bob!.id }]) {
        await refused(group.id, 400, 'VALIDATION', () => post(alice!, `/api/groups/${group.id}/messages`, body));
      }
    });

    it('lets a sender recall their own group message; others get FORBIDDEN or 404', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const outsider = await s.register();
      const group = await createGroup(s, alice!, [bob!]);
      const m = await sendToGroup(s, alice!, group.id, 'oops');
      await refused(group.id, 403, 'FORBIDDEN', () => del(bob!, `/api/messages/${m.id}`));
      await refused(group.id, 404, 'NOT_FOUND', () => del(outsider, `/api/messages/${m.id}`));
      // A notice has no sender: no one recalls it, not even who caused it.
      const notice = (await timeline(bob!, group.id))[0]!;
      await refused(group.id, 403, 'FORBIDDEN', () => del(alice!, `/api/messages/${notice.id}`));
      expect((await del(alice!, `/api/messages/${m.id}`)).status).toBe(204);
      expect((await timeline(bob!, group.id)).map((x) => x.id)).not.toContain(m.id);
    });
  });

  describe('unread, mutes, lists', () => {
    it('counts group unread from the read position: others’ chat only, never notices; read moves it', async () => {
      const [alice, bob, carol] = await usersWithFriend(s, 3);
      const group = await createGroup(s, alice!, [bob!]);
      await post(alice!, `/api/groups/${group.id}/members`, { userIds: [carol!.id] });
      await sendToGroup(s, alice!, group.id, 'one');
      await sendToGroup(s, alice!, group.id, 'two');
      await sendToGroup(s, bob!, group.id, 'mine');
      await post(alice!, `/api/messages/${bob!.id}`, { content: 'direct' });
      const counts = (await get(bob!, '/api/messages/unread/count')).body;
      expect(counts).toEqual({ total: 3, byPeer: { [alice!.id]: 1 }, byGroup: { [group.id]: 2 }, system: expect.any(Number), muted: { users: [], groups: [] } });
      const read = await post(bob!, `/api/groups/${group.id}/read`);
      expect(read.status).toBe(200);
      expect(Object.keys(read.body)).toEqual(['readAt']);
      expect(Date.parse(read.body.readAt)).toBeGreaterThan(0);
      expect((await get(bob!, '/api/messages/unread/count')).body).toMatchObject({ total: 1, byGroup: {} });
      // The read position never goes back; a read with nothing new changes nothing but answers.
      const again = await post(bob!, `/api/groups/${group.id}/read`);
      expect(again.body.readAt >= read.body.readAt).toBe(true);
    });

    it('mutes a user or a group: still counted on its own, left out of total, listed as muted', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const group = await createGroup(s, alice!, [bob!]);
      await sendToGroup(s, alice!, group.id, 'g');
      await post(alice!, `/api/messages/${bob!.id}`, { content: 'd' });
      const m1 = await s.request('PUT', `/api/mutes/group/${group.id}`, { token: bob!.token });
      expect(m1.body).toEqual({ mute: { kind: 'group', id: group.id, until: null } });
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const m2 = await s.request('PUT', `/api/mutes/user/${alice!.id}`, { token: bob!.token, body: { until } });
      expect(m2.body).toEqual({ mute: { kind: 'user', id: alice!.id, until } });
      expect((await get(bob!, '/api/messages/unread/count')).body).toMatchObject({
        total: 0,
        byPeer: { [alice!.id]: 1 },
        byGroup: { [group.id]: 1 },
        muted: { users: [alice!.id], groups: [group.id] },
      });
      expect((await get(bob!, '/api/groups')).body.groups[0]).toMatchObject({ muted: true, unread: 1, role: 'member' });
      const conversations = (await get(bob!, '/api/messages/conversations/list')).body.conversations;
      expect(conversations.map((c: { peer?: { id: string }; group?: { id: string }; muted: boolean }) => [c.peer?.id ?? c.group?.id, c.muted])).toEqual([
        [alice!.id, true],
        [group.id, true],
      ]);
      expect((await del(bob!, `/api/mutes/group/${group.id}`)).status).toBe(204);
      expect((await del(bob!, `/api/mutes/group/${group.id}`)).status).toBe(204);
      expect((await get(bob!, '/api/messages/unread/count')).body).toMatchObject({ total: 1, muted: { users: [alice!.id], groups: [] } });
      // A mute that ended counts again.
      await s.app.db.sql(`UPDATE ${s.app.db.table('Mute')} SET "until" = now() AT TIME ZONE 'UTC' - interval '1 second'`);
      expect((await get(bob!, '/api/messages/unread/count')).body).toMatchObject({ total: 2, muted: { users: [], groups: [] } });
    });

    it('refuses bad mutes: unknown kind, ids of the wrong type, unknown targets, groups not mine, past times', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const outsider = await s.register();
      const group = await createGroup(s, alice!, [bob!]);
      const put = (u: TestUser, path: string, body?: unknown) => s.request('PUT', path, { token: u.token, body });
      await refusedAnywhere(400, 'VALIDATION', () => put(bob!, '/api/mutes/thread/x'));
      await refusedAnywhere(400, 'VALIDATION', () => put(bob!, `/api/mutes/group/${BAD_ID}`));
      await refusedAnywhere(400, 'VALIDATION', () => put(bob!, `/api/mutes/user/${'x'.repeat(65)}`));
      await refusedAnywhere(404, 'NOT_FOUND', () => put(bob!, '/api/mutes/user/no-such-user'));
      await refusedAnywhere(400, 'VALIDATION', () => put(bob!, `/api/mutes/user/${bob!.id}`));
      await refusedAnywhere(403, 'NOT_MEMBER', () => put(outsider, `/api/mutes/group/${group.id}`));
      for (const body of [{ until: new Date(Date.now() - 1000).toISOString() }, { until: 'tomorrow' }, { until: 5 }, { forever: true }]) {
        await refusedAnywhere(400, 'VALIDATION', () => put(bob!, `/api/mutes/group/${group.id}`, body));
      }
    });

    it('lists my groups newest activity first, and public groups to discover with a name filter and paging', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const tag = Math.random().toString(36).slice(2, 8);
      const g1 = await createGroup(s, alice!, [bob!], { name: `${tag} one`, visibility: 'public' });
      const g2 = await createGroup(s, alice!, [bob!], { name: `${tag} two`, visibility: 'public' });
      const g3 = await createGroup(s, alice!, [], { name: `${tag} 100%_private` });
      await sendToGroup(s, bob!, g1.id, 'wake up');
      const mine = (await get(alice!, '/api/groups')).body.groups;
      expect(mine.map((e: { group: { id: string } }) => e.group.id)).toEqual([g1.id, g3.id, g2.id]);
      expect(mine[0]).toMatchObject({ role: 'owner', unread: 1, muted: false, lastMessage: { content: 'wake up', groupId: g1.id } });
      expect(mine[1].lastMessage).toMatchObject({ messageType: 'GROUP_EVENT', metadata: { event: 'created' } });
      expect((await get(bob!, '/api/groups')).body.groups.map((e: { group: { id: string } }) => e.group.id)).toEqual([g1.id, g2.id]);

      const page1 = await get(bob!, `/api/groups/discover?q=${tag}&limit=1`);
      expect(page1.body.groups.map((g: { id: string }) => g.id)).toEqual([g2.id]);
      const page2 = await get(bob!, `/api/groups/discover?q=${tag}&limit=1&cursor=${page1.body.nextCursor}`);
      expect(page2.body).toEqual({ groups: [expect.objectContaining({ id: g1.id, name: `${tag} one` })], nextCursor: null });
      // Private groups never show; % and _ match themselves.
      expect((await get(bob!, `/api/groups/discover?q=${encodeURIComponent(`${tag} 100%_`)}`)).body.groups).toEqual([]);
      expect((await get(bob!, `/api/groups/discover?q=${tag.toUpperCase()}%20TWO`)).body.groups.map((g: { id: string }) => g.id)).toEqual([g2.id]);
      for (const q of [`q=${'x'.repeat(51)}`, 'cursor=nope', 'limit=0', 'limit=101']) {
        expect((await get(bob!, `/api/groups/discover?${q}`)).body.error.code).toBe('VALIDATION');
      }
    });

    it('returns group messages in sync like direct ones, and a former member’s only up to leaving', async () => {
      const [alice, bob] = await usersWithFriend(s, 2);
      const { nextCursor: start } = (await get(bob!, '/api/messages/sync?limit=100')).body;
      let cursor = start as string;
      for (let more = true; more; ) {
        const page = (await get(bob!, `/api/messages/sync?after=${cursor}&limit=100`)).body;
        cursor = page.nextCursor;
        more = page.hasMore;
      }
      const group = await createGroup(s, alice!, [bob!]);
      await sendToGroup(s, alice!, group.id, 'in the group');
      await post(alice!, `/api/messages/${bob!.id}`, { content: 'direct' });
      await del(bob!, `/api/groups/${group.id}/members/${bob!.id}`);
      await sendToGroup(s, alice!, group.id, 'after bob left');
      const synced = (await get(bob!, `/api/messages/sync?after=${cursor}&limit=100`)).body;
      expect(synced.messages.map((m: WireMessage) => (m.messageType === 'GROUP_EVENT' ? `notice:${(m as GroupEventWireMessage).metadata.event}` : m.content))).toEqual([
        'notice:created',
        'in the group',
        'direct',
        'notice:left',
      ]);
      expect(synced.hasMore).toBe(false);
      // Alice's sync has her own group messages once each.
      const aliceSync = (await get(alice!, '/api/messages/sync?limit=100')).body.messages.filter((m: WireMessage) => m.groupId === group.id);
      expect(aliceSync.map((m: WireMessage) => m.content)).toEqual(expect.arrayContaining(['in the group', 'after bob left']));
      expect(new Set(aliceSync.map((m: WireMessage) => m.id)).size).toBe(aliceSync.length);
    });
  });
});
