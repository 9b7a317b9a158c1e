// Issue 12, groups on several nodes: two nodes on one PostgreSQL database and one Redis. A group
// message reaches members on every node; a member added or removed through one node starts or
// stops getting the group's pushes on the other at once (their sockets join or leave the group's
// room there), including tabs they open later.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { quietPeriod } from '../helpers/chat.ts';
import { createGroup, sendToGroup } from '../helpers/groups.ts';

const missing = ['DATABASE_URL', 'REDIS_URL'].filter((v) => !process.env[v]);
if (missing.length > 0) console.warn(`groups-multinode.test.ts skipped: set ${missing.join(' and ')} to run the multi-node group tests`);

type Msg = { message: WireMessage };

describe.skipIf(missing.length > 0)('groups on two nodes over one PostgreSQL and one Redis', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  const redisPrefix = `fc-test-${randomBytes(4).toString('hex')}:`;
  const config = { redisUrl: process.env.REDIS_URL, redisPrefix };

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = await startServer({ target: 'postgres', database: db, config });
    b = await startServer({ target: 'postgres', database: db, config });
  }, 60_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** An owner registered on node A and friends of theirs, made on either node (one database). */
  async function ownerAndFriends(n: number): Promise<[TestUser, ...TestUser[]]> {
    const owner = await a.register();
    const friends: TestUser[] = [];
    for (let i = 0; i < n; i++) {
      const f = await (i % 2 ? a : b).register();
      await a.follow(owner, f);
      await b.follow(f, owner);
      friends.push(f);
    }
    return [owner, ...friends];
  }
  const receives = (socket: ClientSocket, content: string) => waitFor<Msg>(socket, 'chat:message', 5000, (p) => p.message.content === content);
  const sendOverSocket = (socket: ClientSocket, groupId: string, content: string) =>
    emitAck(socket, 'chat:send', { groupId, content, clientId: randomUUID() });

  it('delivers a group message to members on both nodes, whichever node it is sent through', async () => {
    const [owner, bob, carol] = await ownerAndFriends(2);
    const group = await createGroup(a, owner, [bob!, carol!]);
    const ownerOnA = await a.connect(owner);
    const bobOnB = await b.connect(bob!);
    const carolOnA = await a.connect(carol!);
    const carolOnB = await b.connect(carol!);
    const arrivals = [bobOnB, carolOnA, carolOnB].map((t) => receives(t, 'from A'));
    const ack = await sendOverSocket(ownerOnA, group.id, 'from A');
    for (const got of await Promise.all(arrivals)) expect(got.message).toEqual(ack.message);
    const back = [ownerOnA, carolOnA, carolOnB].map((t) => receives(t, 'from B'));
    await sendOverSocket(bobOnB, group.id, 'from B');
    await Promise.all(back);
    // Typing and reads cross too.
    const typing = waitFor(ownerOnA, 'chat:typing');
    await emitAck(bobOnB, 'chat:typing', { groupId: group.id, typing: true });
    expect(await typing).toEqual({ from: bob!.id, typing: true, groupId: group.id });
    const read = waitFor(ownerOnA, 'group:read');
    await emitAck(carolOnB, 'chat:read', { groupId: group.id });
    expect(await read).toMatchObject({ groupId: group.id, userId: carol!.id });
  });

  it('a member added through node A gets the very next message on their tabs on node B, and on tabs opened later', async () => {
    const [owner, bob, carol] = await ownerAndFriends(2);
    const group = await createGroup(a, owner, [bob!]);
    const carolOnB = await b.connect(carol!);
    const carolSees = collect(carolOnB, 'chat:message');
    const r = await a.request('POST', `/api/groups/${group.id}/members`, { token: owner.token, body: { userIds: [carol!.id] } });
    expect(r.status).toBe(200);
    // Sent through node B right after the answer from node A: no wait for anything.
    // Had carol's socket on node B not joined the room by then, this message would never reach it.
    const sent = await sendToGroup(b, bob!, group.id, 'welcome');
    await waitForList(carolSees, (list) => list.some((p) => p.message.id === sent.id));
    const later = await b.connect(carol!);
    const arrival = receives(later, 'for the new tab');
    await sendToGroup(a, owner, group.id, 'for the new tab');
    await arrival;
  });

  it('a member removed through node A gets nothing more on node B, at once', async () => {
    const [owner, bob, carol] = await ownerAndFriends(2);
    const group = await createGroup(a, owner, [bob!, carol!]);
    const carolOnB = await b.connect(carol!);
    const bobOnB = await b.connect(bob!);
    const removed = waitFor(carolOnB, 'group:member', 5000, (p) => p.event === 'removed');
    expect((await a.request('DELETE', `/api/groups/${group.id}/members/${carol!.id}`, { token: owner.token })).status).toBe(204);
    await removed;
    const carolSees = collect(carolOnB, 'chat:message');
    // Right after the answer, through either node; bob on node B proves each went out.
    for (const [node, from] of [
      [b, bob!],
      [a, owner],
    ] as const) {
      const proof = receives(bobOnB, `after removal via ${node === a ? 'A' : 'B'}`);
      await sendToGroup(node, from, group.id, `after removal via ${node === a ? 'A' : 'B'}`);
      await proof;
    }
    await quietPeriod();
    expect(carolSees).toEqual([]);
    // Nor on a tab opened later on node B.
    const later = await b.connect(carol!);
    const laterSees = collect(later, 'chat:message');
    const proof = receives(bobOnB, 'still not carol');
    await sendToGroup(a, owner, group.id, 'still not carol');
    await proof;
    await quietPeriod();
    expect(laterSees).toEqual([]);
  });
});

/** Polls a collected list until `check` holds (events already collected are not missed). */
async function waitForList<T>(list: T[], check: (list: T[]) => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check(list)) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the collected events');
    await new Promise((r) => setTimeout(r, 10));
  }
}
