// Issue 6: several backend nodes behind a load balancer behave as one (DESIGN.md, Storage:
// "REDIS_URL set → … presence and rate limits shared across nodes"). Two nodes in one process,
// on one PostgreSQL database and one Redis; a third node in a child process for the test that
// kills a node outright.
import { randomBytes, randomUUID } from 'node:crypto';
import { io as ioClient } from 'socket.io-client';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FriendEntry, UnreadCounts, WireMessage } from '../../backend/src/realtime/events.ts';
import type { Config } from '../../backend/src/config.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, sleep, waitFor } from '../helpers/wait.ts';
import { quietPeriod, sendOverHttp, sendOverSocket, serverSeesTabs, waitUntil } from '../helpers/chat.ts';
import { startAppProcess, type RunningApp } from '../helpers/browser.ts';

const missing = ['DATABASE_URL', 'REDIS_URL'].filter((v) => !process.env[v]);
if (missing.length > 0) console.warn(`multinode.test.ts skipped: set ${missing.join(' and ')} to run the multi-node tests`);

const JWT_SECRET = 'test-secret-test-secret-0123456789';
const TTL_SECONDS = 2;
type Presence = { userId: string; online: boolean; lastSeenAt: string | null };
const about = (id: string, online: boolean) => (p: Presence) => p.userId === id && p.online === online;

describe.skipIf(missing.length > 0)('two nodes on one PostgreSQL and one Redis', () => {
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  // Redis is shared with whatever else runs: this file's keys and channels stay apart.
  const redisPrefix = `fc-test-${randomBytes(4).toString('hex')}:`;
  const nodeConfig = (more: Partial<Config> = {}): Partial<Config> => ({
    redisUrl: process.env.REDIS_URL,
    redisPrefix,
    presenceTtlSeconds: TTL_SECONDS,
    ...more,
  });
  const extraNodes: TestServer[] = [];
  const processes: RunningApp[] = [];
  const looseSockets: ClientSocket[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    a = await startServer({ target: 'postgres', database: db, config: nodeConfig() });
    b = await startServer({ target: 'postgres', database: db, config: nodeConfig() });
  });
  afterEach(async () => {
    for (const s of looseSockets.splice(0)) s.disconnect();
    for (const n of extraNodes.splice(0)) await n.close();
    for (const p of processes.splice(0)) await p.stop();
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  /** Two friends registered through different nodes (one database: both nodes know both). */
  async function friendsAcrossNodes(): Promise<[TestUser, TestUser]> {
    const alice = await a.register();
    const bob = await b.register();
    await a.follow(alice, bob);
    await b.follow(bob, alice);
    return [alice, bob];
  }

  it('delivers messages both ways between users on different nodes', async () => {
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const bobTab = await b.connect(bob);

    const toBob = waitFor<{ message: WireMessage }>(bobTab, 'chat:message');
    const bobCounts = waitFor<UnreadCounts>(bobTab, 'unread:update', 5000, (c) => c.total === 1);
    const ack = await sendOverSocket(aliceTab, bob.id, 'hello from node A');
    expect(ack.ok).toBe(true);
    expect((await toBob).message).toEqual(ack.message);
    expect(await bobCounts).toMatchObject({ total: 1, byPeer: { [alice.id]: 1 } });

    const toAlice = waitFor<{ message: WireMessage }>(aliceTab, 'chat:message');
    const back = await sendOverSocket(bobTab, alice.id, 'hello from node B');
    expect((await toAlice).message).toEqual(back.message);

    // Either node answers the same history.
    const onA = await a.request('GET', `/api/messages/${bob.id}`, { token: alice.token });
    const onB = await b.request('GET', `/api/messages/${alice.id}`, { token: bob.token });
    expect(onA.body.messages.map((m: WireMessage) => m.content)).toEqual(['hello from node A', 'hello from node B']);
    expect(onB.body).toEqual(onA.body);
  });

  it('reaches every tab of a user, whatever node each tab is on', async () => {
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const bobOnA = await a.connect(bob);
    const bobOnB = await b.connect(bob);

    const both = [bobOnA, bobOnB].map((t) => waitFor<{ message: WireMessage }>(t, 'chat:message'));
    const ack = await sendOverSocket(aliceTab, bob.id, 'to all your tabs');
    for (const got of await Promise.all(both)) expect(got.message.id).toBe(ack.message.id);

    // Bob's own send from node B shows on his tab on node A, and reaches alice, not the sending tab.
    const echoOnSender = collect(bobOnB, 'chat:message');
    const otherTab = waitFor<{ message: WireMessage }>(bobOnA, 'chat:message');
    const toAlice = waitFor<{ message: WireMessage }>(aliceTab, 'chat:message');
    const reply = await sendOverSocket(bobOnB, alice.id, 'from my other tab');
    expect((await otherTab).message.id).toBe(reply.message.id);
    expect((await toAlice).message.id).toBe(reply.message.id);
    await quietPeriod();
    expect(echoOnSender).toEqual([]);
  });

  it('relays read receipts, typing and recalls across nodes', async () => {
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const bobTab = await b.connect(bob);
    const sent = await sendOverSocket(aliceTab, bob.id, 'did you read this?');

    const typing = waitFor(aliceTab, 'chat:typing');
    await emitAck(bobTab, 'chat:typing', { to: alice.id, typing: true });
    expect(await typing).toEqual({ from: bob.id, typing: true });

    const receipt = waitFor(aliceTab, 'chat:read');
    expect(await emitAck(bobTab, 'chat:read', { peerId: alice.id })).toEqual({ ok: true, updated: 1 });
    expect(await receipt).toEqual({ by: bob.id, peerId: alice.id, readAt: expect.any(String) });

    const recalled = waitFor(bobTab, 'chat:deleted');
    expect((await a.request('DELETE', `/api/messages/${sent.message.id}`, { token: alice.token })).status).toBe(204);
    expect(await recalled).toEqual({ messageId: sent.message.id, peerId: alice.id, deletedAt: expect.any(String) });
  });

  it('pushes notifications caused through one node to the user connected to the other', async () => {
    const bob = await b.register();
    const carol = await a.register();
    const bobTab = await b.connect(bob);

    const followed = waitFor<{ message: WireMessage }>(bobTab, 'notification:new', 5000, (p) => p.message.messageType === 'SYSTEM_FOLLOW');
    await a.follow(carol, bob); // through node A's HTTP
    expect((await followed).message.metadata).toEqual({ follower: expect.objectContaining({ id: carol.id }) });

    const work = (await b.request('POST', '/api/works', { token: bob.token, body: { title: 'Harbour at dusk', price: 12 } })).body.work;
    const sold = waitFor<{ message: WireMessage }>(bobTab, 'notification:new', 5000, (p) => p.message.messageType === 'SYSTEM_PURCHASE');
    const counts = waitFor<UnreadCounts>(bobTab, 'unread:update', 5000, (c) => c.system >= 2);
    expect((await a.request('POST', `/api/works/${work.id}/purchase`, { token: carol.token })).status).toBe(201);
    expect((await sold).message.metadata).toMatchObject({ buyer: { id: carol.id }, work: { id: work.id }, price: 12 });
    expect((await counts).system).toBeGreaterThanOrEqual(2);
  });

  it('keeps a user online until the last tab on any node closes, and tells friends on every node', async () => {
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const updates = collect<Presence>(aliceTab, 'presence:update');

    const online = waitFor(aliceTab, 'presence:update', 5000, about(bob.id, true));
    const bobOnB = await b.connect(bob);
    await online;
    const bobOnA = await a.connect(bob);
    await serverSeesTabs(a, bob.id, 2);
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [bob.id] });

    bobOnB.disconnect();
    await serverSeesTabs(a, bob.id, 1);
    await quietPeriod();
    expect(updates.filter((u) => u.userId === bob.id).map((u) => u.online)).toEqual([true]);
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [bob.id] });
    const friendsOnB = await b.request('GET', '/api/friends', { token: alice.token });
    expect(friendsOnB.body.friends.map((f: FriendEntry) => [f.user.id, f.online])).toEqual([[bob.id, true]]);

    const offline = waitFor<Presence>(aliceTab, 'presence:update', 5000, about(bob.id, false));
    bobOnA.disconnect();
    expect(await offline).toEqual({ userId: bob.id, online: false, lastSeenAt: expect.any(String) });
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [] });
  });

  /** Two more nodes with a chat limit of 5/s, alice with a tab on each, and her friend bob. */
  async function limitedNodes() {
    const [limitedA, limitedB] = [
      await startServer({ target: 'postgres', database: db, config: nodeConfig({ chatRateLimit: 5 }) }),
      await startServer({ target: 'postgres', database: db, config: nodeConfig({ chatRateLimit: 5 }) }),
    ];
    extraNodes.push(limitedA, limitedB);
    const [alice, bob] = await friendsAcrossNodes();
    return { limitedA, alice, bob, tabs: [await limitedA.connect(alice), await limitedB.connect(alice)] };
  }

  it('shares one rate limit between the nodes: a burst of 8 split over two nodes gets exactly 5 through', async () => {
    const { limitedA, alice, bob, tabs } = await limitedNodes();
    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => sendOverSocket(tabs[i % 2]!, bob.id, `burst ${i}`)));
    expect(acks.filter((x) => x.ok)).toHaveLength(5);
    expect(acks.filter((x) => !x.ok).map((x) => x.error.code)).toEqual(['RATE_LIMITED', 'RATE_LIMITED', 'RATE_LIMITED']);
    // Both nodes took part in the burst, and what was refused was not stored.
    expect(new Set(acks.map((_, i) => i % 2))).toEqual(new Set([0, 1]));
    const history = await limitedA.request('GET', `/api/messages/${bob.id}`, { token: alice.token });
    expect(history.body.messages).toHaveLength(5);
  });

  it('keeps the shared rate limit when Redis lost its scripts (restart, SCRIPT FLUSH)', async () => {
    const { bob, tabs } = await limitedNodes();
    const startedAt = Date.now();
    expect((await sendOverSocket(tabs[0]!, bob.id, 'before the flush')).ok).toBe(true);
    const admin = createClient({ url: process.env.REDIS_URL });
    await admin.connect();
    try {
      await admin.scriptFlush();
    } finally {
      await admin.close();
    }
    // Had a node fallen back to counting alone, all 8 would pass (4 left on one node, 5 on the
    // other). One bucket passes the 4 tokens left plus what refilled (5/s) while the test ran:
    // a loaded machine can take longer than the 200 ms one token needs.
    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => sendOverSocket(tabs[i % 2]!, bob.id, `after ${i}`)));
    const refilled = Math.floor(((Date.now() - startedAt) / 1000) * 5);
    const passed = acks.filter((x) => x.ok).length;
    expect(passed).toBeGreaterThanOrEqual(4);
    expect(passed).toBeLessThanOrEqual(Math.min(4 + refilled, 7));
  });

  it('forgets a cached friendship on every node when it ends, and when it starts again', async () => {
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const bobTab = await b.connect(bob);
    // Both nodes have answered "friends" once (and cached it).
    expect((await sendOverSocket(aliceTab, bob.id, 'hi')).ok).toBe(true);
    expect((await sendOverSocket(bobTab, alice.id, 'hi back')).ok).toBe(true);

    expect((await b.request('DELETE', `/api/follows/${alice.id}`, { token: bob.token })).status).toBe(200);
    const refused = await sendOverSocket(aliceTab, bob.id, 'still there?');
    expect(refused).toMatchObject({ ok: false, error: { code: 'NOT_FRIENDS' } });
    const overHttp = await a.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'hello?' } });
    expect(overHttp.status).toBe(403);

    await b.follow(bob, alice);
    expect((await sendOverSocket(aliceTab, bob.id, 'welcome back')).ok).toBe(true);
    expect((await sendOverHttp(a, alice, bob.id, 'and over HTTP')).content).toBe('and over HTTP');
  });

  /** A node in its own process, on the same database and Redis, that the test can kill -9. */
  async function startNodeProcess(): Promise<RunningApp> {
    const node = await startAppProcess({
      DATABASE_URL: db.url!,
      REDIS_URL: process.env.REDIS_URL!,
      REDIS_PREFIX: redisPrefix,
      PRESENCE_TTL_SECONDS: String(TTL_SECONDS),
      JWT_SECRET,
      SEED_DEMO: 'false',
    });
    processes.push(node);
    return node;
  }

  async function connectTo(url: string, user: TestUser): Promise<ClientSocket> {
    const socket: ClientSocket = ioClient(url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    looseSockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return socket;
  }

  async function kill(node: RunningApp): Promise<void> {
    const exited = new Promise((r) => node.child.once('exit', r));
    node.child.kill('SIGKILL');
    await exited;
  }

  it('marks a user offline within the presence expiry when their node dies', async () => {
    const node = await startNodeProcess();
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const online = waitFor(aliceTab, 'presence:update', 5000, about(bob.id, true));
    const bobTab = await connectTo(node.url, bob);
    await online;
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [bob.id] });

    const offline = waitFor<Presence>(aliceTab, 'presence:update', (TTL_SECONDS + 8) * 1000, about(bob.id, false));
    const bobLost = new Promise((r) => bobTab.once('disconnect', r));
    await kill(node); // no clean-up runs: bob's presence entry stays in Redis until it expires
    await bobLost;
    expect(await offline).toEqual({ userId: bob.id, online: false, lastSeenAt: expect.any(String) });
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [] });
    const friends = await a.request('GET', '/api/friends', { token: alice.token });
    expect(friends.body.friends).toEqual([expect.objectContaining({ online: false, lastSeenAt: expect.any(String) })]);
  }, 30_000);

  it('keeps a user online when a node with one of their tabs dies but another tab lives on', async () => {
    const node = await startNodeProcess();
    const [alice, bob] = await friendsAcrossNodes();
    const aliceTab = await a.connect(alice);
    const updates = collect<Presence>(aliceTab, 'presence:update');
    const bobOnA = await a.connect(bob);
    await connectTo(node.url, bob);
    await kill(node);
    // Long enough for the dead node's entry to expire and be swept.
    await sleep(TTL_SECONDS * 1000 + 2500);
    expect(updates.filter((u) => u.userId === bob.id).map((u) => u.online)).toEqual([true]);
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [bob.id] });

    const offline = waitFor<Presence>(aliceTab, 'presence:update', 5000, about(bob.id, false));
    bobOnA.disconnect();
    await offline;
    expect(await emitAck(aliceTab, 'presence:list', {})).toEqual({ ok: true, online: [] });
  }, 30_000);

  it('loses and doubles nothing acknowledged when a node dies mid-burst: its clients fail over, send again with the same clientId, and sync', async () => {
    const node = await startNodeProcess();
    const [alice, bob] = await friendsAcrossNodes();
    // alice sends from the node that dies; bob, on node A, answers her the whole time.
    const aliceTab = await connectTo(node.url, alice);
    const bobTab = await a.connect(bob);
    const cursorOf = async (tab: ClientSocket) => (await emitAck(tab, 'chat:sync', { limit: 100 })).nextCursor as string;
    const aliceCursor = await cursorOf(aliceTab);
    const bobCursor = await cursorOf(bobTab);
    const bobLive = collect<{ message: WireMessage }>(bobTab, 'chat:message');
    const aliceLive = collect<{ message: WireMessage }>(aliceTab, 'chat:message');

    // A burst from alice, not waiting for answers; the node is killed while they are in flight.
    const clientIds = Array.from({ length: 30 }, () => randomUUID());
    const acked = new Map<string, string>();
    for (const [i, clientId] of clientIds.entries()) {
      aliceTab.emit('chat:send', { to: bob.id, content: `burst ${i}`, clientId }, (res: { ok: boolean; message?: WireMessage }) => {
        if (res.ok) acked.set(clientId, res.message!.id);
      });
    }
    const bobIds = Array.from({ length: 5 }, () => randomUUID());
    const bobSent = await Promise.all(bobIds.map((clientId, i) => sendOverSocket(bobTab, alice.id, `reply ${i}`, clientId)));
    await waitUntil(() => bobLive.length > 0, 10_000, 'the first of the burst to reach bob');
    await kill(node);
    const ackedBeforeKill = new Map(acked);

    // alice fails over to node B: syncs from her cursor, then sends everything again with the same
    // clientIds (what was acknowledged before the kill too: a client that did not hear the ack).
    const aliceAgain = await connectTo(b.url, alice);
    const aliceSynced: WireMessage[] = [];
    for (let after = aliceCursor; ; ) {
      const page = await emitAck(aliceAgain, 'chat:sync', { after, limit: 100 });
      aliceSynced.push(...page.messages);
      after = page.nextCursor;
      if (!page.hasMore) break;
    }
    for (const [i, clientId] of clientIds.entries()) {
      const res = await sendOverSocket(aliceAgain, bob.id, `burst ${i}`, clientId);
      expect(res.ok).toBe(true);
      if (ackedBeforeKill.has(clientId)) expect(res.message.id).toBe(ackedBeforeKill.get(clientId));
      acked.set(clientId, res.message.id);
    }
    // What bob sent reached alice: live before the kill, or by her sync after it; once each.
    const aliceGot = new Map<string, string>();
    for (const m of [...aliceLive.map((p) => p.message), ...aliceSynced]) if (m.fromUserId === bob.id) aliceGot.set(m.id, m.clientId!);
    expect([...aliceGot.keys()].sort()).toEqual(bobSent.map((r) => r.message.id).sort());

    // bob: every message of the burst once, live or by a sync from his cursor (one stored but not
    // yet pushed when its node died comes only by sync); none pushed twice.
    const bobGot = new Map<string, Set<string>>();
    await waitUntil(
      async () => {
        const synced = (await emitAck(bobTab, 'chat:sync', { after: bobCursor, limit: 100 })).messages as WireMessage[];
        for (const m of [...bobLive.map((p) => p.message), ...synced]) {
          if (m.fromUserId !== alice.id || !m.clientId) continue;
          bobGot.set(m.clientId, (bobGot.get(m.clientId) ?? new Set()).add(m.id));
        }
        return clientIds.every((c) => bobGot.has(c));
      },
      10_000,
      'bob to have the whole burst',
    );
    await quietPeriod();
    const pushed = bobLive.map((p) => p.message.id);
    expect(new Set(pushed).size).toBe(pushed.length);
    for (const clientId of clientIds) expect([...(bobGot.get(clientId) ?? [])]).toEqual([acked.get(clientId)]);
    // And stored once each.
    const history = await a.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token });
    const fromAlice = history.body.messages.filter((m: WireMessage) => m.fromUserId === alice.id).map((m: WireMessage) => m.clientId);
    expect(fromAlice.sort()).toEqual([...clientIds].sort());
  }, 60_000);

  it('answers health on both nodes with Redis on', async () => {
    for (const n of [a, b]) expect((await n.request('GET', '/api/health')).body).toEqual({ ok: true, db: true, redis: true });
  });
});
