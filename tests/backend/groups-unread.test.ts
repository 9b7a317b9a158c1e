// Group unread counts from sequence numbers (issue 12, migration 20261206000000_group_read_seq):
// the counts stay right across sends (text and rich), reads, recalls, leaving and rejoining,
// mutes, idempotent retries, concurrent sends and reads, and the deletion of a user. Besides the
// answers of the API, every test checks the stored numbers: a group's chat messages are numbered
// 1…lastSeq without a hole or a repeat, and every member's count equals a count over the rows.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';
import { emitAck } from '../helpers/wait.ts';
import { createMessageWriter } from '../../backend/src/chat/writer.ts';
import { emptyCounts } from '../../backend/src/chat/unread.ts';

describe.each(dbTargets())('group unread counts on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  }, 60_000);
  afterAll(async () => {
    await s?.close();
  });

  const get = (u: TestUser, path: string) => s.request('GET', path, { token: u.token });
  const post = (u: TestUser, path: string, body?: unknown) => s.request('POST', path, { token: u.token, body });
  const del = (u: TestUser, path: string) => s.request('DELETE', path, { token: u.token });
  const counts = async (u: TestUser) => (await get(u, '/api/messages/unread/count')).body;
  /** My unread count in this group, as the counts and as GET /api/groups answer it (they must agree). */
  async function unread(u: TestUser, groupId: string): Promise<number> {
    const byGroup = (await counts(u)).byGroup as Record<string, number>;
    const listed = ((await get(u, '/api/groups')).body.groups as { group: { id: string }; unread: number }[]).find((g) => g.group.id === groupId);
    expect(listed?.unread ?? 0).toBe(byGroup[groupId] ?? 0);
    return byGroup[groupId] ?? 0;
  }
  const read = (u: TestUser, groupId: string) => post(u, `/api/groups/${groupId}/read`);

  /**
   * The stored numbers are consistent: the group's numbered messages are exactly 1…lastSeq, only
   * chat messages carry one, and every current member's count is the count over the rows of
   * others' chat messages after their read position that are not recalled.
   */
  async function checkNumbers(groupId: string, { holes = false } = {}): Promise<void> {
    const db = s.app.db;
    const M = db.table('Message');
    const [g] = await db.sql<{ lastSeq: number }>(`SELECT "lastSeq"::int AS "lastSeq" FROM ${db.table('Group')} WHERE id = $1::uuid`, [groupId]);
    const seqs = await db.sql<{ seq: number; messageType: string }>(`SELECT seq::int AS seq, "messageType" FROM ${M} WHERE "groupId" = $1::uuid AND seq IS NOT NULL ORDER BY seq`, [groupId]);
    // (Messages deleted outright with their deleted sender leave holes: `holes`.)
    if (!holes) expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: g!.lastSeq }, (_, i) => i + 1));
    expect(new Set(seqs.map((r) => r.messageType))).toEqual(new Set(seqs.length ? ['CHAT'] : []));
    const [unnumbered] = await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${M} WHERE "groupId" = $1::uuid AND seq IS NULL AND "messageType" = 'CHAT'`, [groupId]);
    expect(unnumbered!.n).toBe(0);
    const slow = await db.sql<{ userId: string; n: number }>(
      `SELECT gm."userId", (SELECT count(*)::int FROM ${M} m WHERE m."groupId" = gm."groupId" AND m.seq > gm."readSeq"
                             AND m."deletedAt" IS NULL AND m."fromUserId" <> gm."userId") AS n
       FROM ${db.table('GroupMember')} gm WHERE gm."groupId" = $1::uuid AND gm."leftAt" IS NULL`,
      [groupId],
    );
    const fast = await s.app.chat.internals.services.unread;
    for (const { userId, n } of slow) expect([userId, (await fast.counts(userId)).byGroup[groupId] ?? 0]).toEqual([userId, n]);
  }

  it('counts others’ chat messages (text and rich) after the read position; own messages and notices never; a read clears them', async () => {
    const [alice, bob, carol, dave] = await usersWithFriend(s, 4);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    expect(await unread(bob!, group.id)).toBe(0);
    await sendToGroup(s, alice!, group.id, 'a1');
    await sendToGroup(s, alice!, group.id, 'a2');
    await sendToGroup(s, carol!, group.id, 'c1');
    await sendToGroup(s, bob!, group.id, 'mine 1');
    await sendToGroup(s, bob!, group.id, 'mine 2');
    // A location message goes through the other writer (chat/rich.ts).
    const place = await post(carol!, `/api/groups/${group.id}/messages`, { content: '', clientId: randomUUID(), location: { lat: 1.5, lng: 2.5 } });
    expect(place.status).toBe(201);
    // A notice (dave added) does not count.
    expect((await post(alice!, `/api/groups/${group.id}/members`, { userIds: [dave!.id] })).status).toBe(200);
    expect(await unread(bob!, group.id)).toBe(4);
    expect(await unread(carol!, group.id)).toBe(4);
    expect(await unread(alice!, group.id)).toBe(4);
    // Dave joined after all of it.
    expect(await unread(dave!, group.id)).toBe(0);
    await checkNumbers(group.id);

    // The socket read answers what it cleared.
    const tab = await s.connect(bob!);
    const ack = await emitAck(tab, 'chat:read', { groupId: group.id });
    expect(ack).toMatchObject({ ok: true, updated: 4 });
    tab.disconnect();
    expect(await unread(bob!, group.id)).toBe(0);
    expect((await counts(bob!)).total).toBe(0);
    // My own messages after my read position do not count, others' do.
    await sendToGroup(s, bob!, group.id, 'mine 3');
    await sendToGroup(s, alice!, group.id, 'a3');
    expect(await unread(bob!, group.id)).toBe(1);
    expect(await unread(dave!, group.id)).toBe(2);
    await checkNumbers(group.id);
  });

  it('a recall by others takes it out of the counts (before or after my read position), one of mine changes nothing', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const old = await sendToGroup(s, alice!, group.id, 'read already');
    await read(bob!, group.id);
    const a1 = await sendToGroup(s, alice!, group.id, 'a1');
    await sendToGroup(s, alice!, group.id, 'a2');
    const mine = await sendToGroup(s, bob!, group.id, 'mine');
    expect(await unread(bob!, group.id)).toBe(2);
    expect((await del(alice!, `/api/messages/${a1.id}`)).status).toBe(204);
    expect(await unread(bob!, group.id)).toBe(1);
    // A recall of a message I had read changes nothing.
    expect((await del(alice!, `/api/messages/${old.id}`)).status).toBe(204);
    expect(await unread(bob!, group.id)).toBe(1);
    // My own recall: neither my count nor alice's moves the wrong way.
    expect(await unread(alice!, group.id)).toBe(1);
    expect((await del(bob!, `/api/messages/${mine.id}`)).status).toBe(204);
    expect(await unread(alice!, group.id)).toBe(0);
    expect(await unread(bob!, group.id)).toBe(1);
    await checkNumbers(group.id);
    await read(bob!, group.id);
    expect(await unread(bob!, group.id)).toBe(0);
    // After the read, a recall of something before it changes nothing either.
    const a3 = await sendToGroup(s, alice!, group.id, 'a3');
    expect(await unread(bob!, group.id)).toBe(1);
    expect((await del(alice!, `/api/messages/${a3.id}`)).status).toBe(204);
    expect(await unread(bob!, group.id)).toBe(0);
    await checkNumbers(group.id);
  });

  it('a former member has no count; a member who rejoins starts from everything read; a muted group counts out of total', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!], { visibility: 'public' });
    await sendToGroup(s, alice!, group.id, 'before leaving');
    expect(await unread(bob!, group.id)).toBe(1);
    expect((await del(bob!, `/api/groups/${group.id}/members/${bob!.id}`)).status).toBe(204);
    await sendToGroup(s, alice!, group.id, 'while away');
    expect((await counts(bob!)).byGroup).toEqual({});
    expect((await post(bob!, `/api/groups/${group.id}/join`)).status).toBe(200);
    expect(await unread(bob!, group.id)).toBe(0);
    await sendToGroup(s, alice!, group.id, 'after rejoining');
    expect(await unread(bob!, group.id)).toBe(1);
    expect((await s.request('PUT', `/api/mutes/group/${group.id}`, { token: bob!.token })).status).toBe(200);
    const muted = await counts(bob!);
    expect(muted).toMatchObject({ total: 0, byGroup: { [group.id]: 1 }, muted: { groups: [group.id] } });
    expect((await get(bob!, '/api/groups')).body.groups).toEqual([expect.objectContaining({ unread: 1, muted: true, lastMessage: expect.objectContaining({ content: 'after rejoining' }) })]);
    await checkNumbers(group.id);
  });

  it('an idempotent retry stores nothing, takes no number and leaves no hole, also when it races new sends', async () => {
    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    const clientId = randomUUID();
    const first = await sendToGroup(s, alice!, group.id, 'once', clientId);
    // A retry answers the first message (201 or 200 alike: the same id).
    const again = await post(alice!, `/api/groups/${group.id}/messages`, { content: 'once', clientId });
    expect(again.body.message.id).toBe(first.id);
    expect(await unread(bob!, group.id)).toBe(1);
    // Retries in one batch with new sends: the retries conflict in the insert, the new ones close up.
    const sends = await Promise.all([
      ...Array.from({ length: 5 }, (_, i) => post(alice!, `/api/groups/${group.id}/messages`, { content: `new ${i}`, clientId: randomUUID() })),
      ...Array.from({ length: 3 }, () => post(alice!, `/api/groups/${group.id}/messages`, { content: 'once', clientId })),
      post(bob!, `/api/groups/${group.id}/messages`, { content: 'mine', clientId: randomUUID() }),
    ]);
    expect(sends.map((r) => r.status).filter((st) => st !== 200 && st !== 201)).toEqual([]);
    expect(sends.slice(5, 8).map((r) => r.body.message.id)).toEqual([first.id, first.id, first.id]);
    expect(await unread(bob!, group.id)).toBe(6);
    expect(await unread(alice!, group.id)).toBe(1);
    await checkNumbers(group.id);
    // The writer's own batch (writes in one turn are one batch), the retry numbered first: it
    // conflicts in the insert, and the messages after it close up the number it took.
    const writer = createMessageWriter(s.app.db);
    const draft = (content: string, cid: string) => ({ fromUserId: alice!.id, toUserId: null, groupId: group.id, content, clientId: cid });
    const batch = await Promise.all([writer.write(draft('once', clientId)), writer.write(draft('b1', randomUUID())), writer.write(draft('b2', randomUUID()))]);
    expect(batch.map((w) => w.created)).toEqual([false, true, true]);
    expect(batch[0]!.message.id).toBe(first.id);
    expect(await unread(bob!, group.id)).toBe(8);
    // A rich message's retry too.
    const cid = randomUUID();
    const loc = { content: '', clientId: cid, location: { lat: 3, lng: 4 } };
    const r1 = await post(bob!, `/api/groups/${group.id}/messages`, loc);
    const r2 = await post(bob!, `/api/groups/${group.id}/messages`, loc);
    expect(r2.body.message.id).toBe(r1.body.message.id);
    expect(await unread(alice!, group.id)).toBe(2);
    await checkNumbers(group.id);
  });

  it('concurrent sends, reads and a removal keep the numbers and counts exact; a message is stored only while its sender is a member', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const groupB = await createGroup(s, alice!, [bob!, carol!]);
    const send = (u: TestUser, g: string, i: number) => post(u, `/api/groups/${g}/messages`, { content: `m${i}`, clientId: randomUUID() });
    const results = await Promise.all([
      ...Array.from({ length: 12 }, (_, i) => send([alice!, bob!, carol!][i % 3]!, i % 2 ? group.id : groupB.id, i)),
      read(bob!, group.id),
      read(carol!, groupB.id),
      ...Array.from({ length: 6 }, (_, i) => send(carol!, group.id, 100 + i)),
      del(alice!, `/api/groups/${group.id}/members/${carol!.id}`),
      read(alice!, group.id),
      ...Array.from({ length: 6 }, (_, i) => send(bob!, i % 2 ? group.id : groupB.id, 200 + i)),
    ]);
    // Every send either stored or, for carol after her removal, NOT_MEMBER.
    for (const r of results) if (r.status !== 200 && r.status !== 201 && r.status !== 204) expect(r.body.error.code).toBe('NOT_MEMBER');
    await checkNumbers(group.id);
    await checkNumbers(groupB.id);
    // What carol got stored is in the history she keeps (sent before she left).
    const stored = results.filter((r) => r.status === 201 && r.body.message.fromUserId === carol!.id && r.body.message.groupId === group.id).map((r) => r.body.message.id);
    const history = (await get(carol!, `/api/groups/${group.id}/messages?limit=100`)).body.messages.map((m: { id: string }) => m.id);
    for (const id of stored) expect(history).toContain(id);
    expect((await counts(carol!)).byGroup[group.id]).toBeUndefined();
    // Reads after it all clear every count.
    for (const u of [alice!, bob!]) {
      await read(u, group.id);
      await read(u, groupB.id);
      expect(await unread(u, group.id)).toBe(0);
      expect(await unread(u, groupB.id)).toBe(0);
    }
  });

  it('keeps counts right when a user is deleted, keeping or deleting their messages (recalled ones too)', async () => {
    const [alice, bob, carol, dave] = await usersWithFriend(s, 4);
    const group = await createGroup(s, alice!, [bob!, carol!, dave!]);
    await sendToGroup(s, alice!, group.id, 'a1');
    const c1 = await sendToGroup(s, carol!, group.id, 'c1');
    await sendToGroup(s, carol!, group.id, 'c2');
    const d1 = await sendToGroup(s, dave!, group.id, 'd1');
    await sendToGroup(s, dave!, group.id, 'd2');
    await sendToGroup(s, alice!, group.id, 'a2');
    expect((await del(carol!, `/api/messages/${c1.id}`)).status).toBe(204);
    expect((await del(dave!, `/api/messages/${d1.id}`)).status).toBe(204);
    expect(await unread(bob!, group.id)).toBe(4); // a1, c2, d2, a2
    // Carol goes, her messages stay (anonymised); her recalled one is deleted outright.
    await s.app.chat.userDeleted(carol!.id);
    expect(await unread(bob!, group.id)).toBe(4);
    await checkNumbers(group.id, { holes: true });
    // Dave goes with his messages: d2 no longer counts, the recalled d1 does not come back.
    await s.app.chat.userDeleted(dave!.id, { messages: 'delete' });
    expect(await unread(bob!, group.id)).toBe(3);
    expect(await unread(alice!, group.id)).toBe(1); // c2
    await checkNumbers(group.id, { holes: true });
    await read(bob!, group.id);
    expect(await unread(bob!, group.id)).toBe(0);
    await sendToGroup(s, alice!, group.id, 'a3');
    expect(await unread(bob!, group.id)).toBe(1);
  });

  // The counts are a prepared statement (db.prepared): on PGlite its parameters go in as SQL
  // literals, and the statement lives in a session the host shares.
  it('prepared counts: any user id is a parameter, never SQL; on PGlite the statement is prepared again after a DEALLOCATE', async () => {
    const db = s.app.db;
    const odd = ["o'brien", 'back\\slash\\', "'); DROP TABLE friendchat.\"Message\"; --", '$1 ünï 😀', 'E\'\\x41\''];
    const echo = (params: unknown[]) =>
      db.prepared<{ a: string[]; b: string | null; n: number; t: boolean; e: string[]; u: string[] }>(
        'SELECT $1::text[] AS a, $2::text AS b, $3::int AS n, $4::bool AS t, $5::text[] AS e, $6::uuid[]::text[] AS u',
        params,
      );
    const uuids = ['0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000002'];
    expect(await echo([odd, null, -7, true, [], uuids])).toEqual([{ a: odd, b: null, n: -7, t: true, e: [], u: uuids }]);
    expect(await echo([[], odd[1], 0, false, odd, [null, uuids[0]]])).toEqual([{ a: [], b: odd[1], n: 0, t: false, e: odd, u: [null, uuids[0]] }]);
    // An array holding NULL next to the text 'NULL', quotes, braces and commas.
    const tricky = ['NULL', null, '{a,b}', '"q"', ' x ', ''];
    expect((await echo([tricky, null, 1, true, [], []]))[0]!.a).toEqual(tricky);
    const unreadService = s.app.chat.internals.services.unread;
    for (const id of odd) expect(await unreadService.counts(id)).toEqual(emptyCounts());

    const [alice, bob] = await usersWithFriend(s, 2);
    const group = await createGroup(s, alice!, [bob!]);
    await sendToGroup(s, alice!, group.id, 'a1');
    await sendToGroup(s, alice!, group.id, 'a2');
    expect((await counts(bob!)).byGroup).toEqual({ [group.id]: 2 });
    if (target === 'pglite') {
      await db.sql('DEALLOCATE ALL');
      expect((await counts(bob!)).byGroup).toEqual({ [group.id]: 2 });
      expect((await unreadService.counts(bob!.id)).byGroup).toEqual({ [group.id]: 2 });
    }
    expect((await db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM ${db.table('Message')}`))[0]!.n).toBeGreaterThan(0);
  });
});
