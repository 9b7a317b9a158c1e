// Issue 12, group limits: concurrent joins and adds at the size limit never pass it (a small
// GROUP_MAX_MEMBERS here), and group messages take from the same per-user rate limit as direct ones
// (a bucket of one here).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { createGroup, groupState, usersWithFriend } from '../helpers/groups.ts';

const LIMIT = 5;

describe.each(dbTargets())('group limits on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target, config: { groupMaxMembers: LIMIT, chatRateLimit: 1 } });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const memberRows = async (groupId: string) => (await groupState(s, groupId)).members.filter((m) => m.leftAt === null).length;

  it('lets exactly as many concurrent joiners in as there are places, and answers the rest GROUP_FULL', async () => {
    const [owner, friend] = await usersWithFriend(s, 2);
    const group = await createGroup(s, owner!, [friend!], { visibility: 'public' });
    const joiners = await Promise.all(Array.from({ length: 8 }, () => s.register()));
    const answers = await Promise.all(joiners.map((u) => s.request('POST', `/api/groups/${group.id}/join`, { token: u.token })));
    const codes = answers.map((r) => (r.status === 200 ? 'ok' : r.body.error.code)).sort();
    expect(codes).toEqual([...Array(LIMIT - 2).fill('ok'), ...Array(8 - (LIMIT - 2)).fill('GROUP_FULL')].sort());
    const details = await s.request('GET', `/api/groups/${group.id}`, { token: owner!.token });
    expect(details.body.group.memberCount).toBe(LIMIT);
    expect(details.body.members).toHaveLength(LIMIT);
    expect(await memberRows(group.id)).toBe(LIMIT);
    // One "joined" notice per member who got in, none for the others.
    const notices = (await s.request('GET', `/api/groups/${group.id}/messages`, { token: owner!.token })).body.messages.filter(
      (m: { metadata: { event?: string } }) => m.metadata.event === 'joined',
    );
    expect(notices).toHaveLength(LIMIT - 2);
  });

  it('never passes the limit when adds and joins race', async () => {
    const users = await usersWithFriend(s, 7);
    const owner = users[0]!;
    const group = await createGroup(s, owner, [], { visibility: 'public' });
    const strangers = await Promise.all(Array.from({ length: 4 }, () => s.register()));
    const answers = await Promise.all([
      ...users.slice(1).map((u) => s.request('POST', `/api/groups/${group.id}/members`, { token: owner.token, body: { userIds: [u.id] } })),
      s.request('POST', `/api/groups/${group.id}/members`, { token: owner.token, body: { userIds: [users[1]!.id, users[2]!.id] } }),
      ...strangers.map((u) => s.request('POST', `/api/groups/${group.id}/join`, { token: u.token })),
    ]);
    expect(answers.every((r) => r.status === 200 || r.body.error.code === 'GROUP_FULL')).toBe(true);
    expect(answers.some((r) => r.status === 400)).toBe(true);
    const { group: row } = await groupState(s, group.id);
    expect(row!.memberCount).toBe(LIMIT);
    expect(await memberRows(group.id)).toBe(LIMIT);
  });

  it('creates at the limit, and not one over', async () => {
    const users = await usersWithFriend(s, LIMIT + 1);
    const at = await s.request('POST', '/api/groups', { token: users[0]!.token, body: { name: 'Full', memberIds: users.slice(1, LIMIT).map((u) => u.id) } });
    expect(at.body.group.memberCount).toBe(LIMIT);
    const over = await s.request('POST', '/api/groups', { token: users[0]!.token, body: { name: 'Over', memberIds: users.slice(1).map((u) => u.id) } });
    expect([over.status, over.body.error.code]).toEqual([400, 'GROUP_FULL']);
  });

  it('takes group sends from the same per-user bucket as direct ones (RATE_LIMITED), and stores none beyond it', async () => {
    // A bucket of one, refilled once a second: a second send right after the first is refused.
    for (const groupFirst of [false, true]) {
      const [alice, bob] = await usersWithFriend(s, 2);
      const group = await createGroup(s, alice!, [bob!]);
      const direct = () => s.request('POST', `/api/messages/${bob!.id}`, { token: alice!.token, body: { content: 'direct' } });
      const inGroup = () => s.request('POST', `/api/groups/${group.id}/messages`, { token: alice!.token, body: { content: 'group' } });
      const before = await groupState(s, group.id);
      const first = await (groupFirst ? inGroup() : direct());
      const second = await (groupFirst ? direct() : inGroup());
      expect(first.status).toBe(201);
      expect([second.status, second.body.error.code]).toEqual([429, 'RATE_LIMITED']);
      if (!groupFirst) expect(await groupState(s, group.id)).toEqual(before);
      else expect((await s.request('GET', `/api/messages/${bob!.id}`, { token: alice!.token })).body.messages).toEqual([]);
    }
  });
});
