// Issue 11, point 8: following and unfollowing someone over and over must not flood them. A
// follower→followee pair announces itself at most once a day (SYSTEM_FOLLOW, and SYSTEM_FRIEND
// when cycling re-makes a friendship), stored and pushed alike; and follows are rate limited
// per user (FOLLOW_RATE_LIMIT follow/unfollow actions a minute, then 429 RATE_LIMITED, shared
// by all nodes through Redis).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SystemMessageType, WireMessage } from '../../backend/src/realtime/events.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect } from '../helpers/wait.ts';
import { quietPeriod, waitUntil } from '../helpers/chat.ts';

const CYCLES = 20;

describe.each(dbTargets())('follow notifications and follow limits on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const systemList = async (u: TestUser): Promise<WireMessage[]> =>
    (await s.request('GET', '/api/messages/system/list?limit=100', { token: u.token })).body.messages;
  const ofType = async (u: TestUser, type: SystemMessageType) => (await systemList(u)).filter((m) => m.messageType === type);
  async function follow(a: TestUser, b: TestUser) {
    expect((await s.request('POST', `/api/follows/${b.id}`, { token: a.token })).status).toBe(201);
  }
  async function unfollow(a: TestUser, b: TestUser) {
    expect((await s.request('DELETE', `/api/follows/${b.id}`, { token: a.token })).status).toBe(200);
  }
  async function cycle(a: TestUser, b: TestUser, times: number) {
    for (let i = 0; i < times; i++) {
      await follow(a, b);
      await unfollow(a, b);
    }
  }
  /** Moves everything `u` was notified of `hours` into the past, as if that time had gone by. */
  async function age(u: TestUser, hours: number) {
    await s.app.db.sql(`UPDATE ${s.app.db.table('Message')} SET "createdAt" = "createdAt" - make_interval(hours => $2) WHERE "toUserId" = $1`, [u.id, hours]);
  }

  it(`${CYCLES} follow/unfollow cycles notify the followee once: one stored, one pushed`, async () => {
    const [attacker, victim] = [await s.register(), await s.register()];
    const socket = await s.connect(victim);
    const pushed = collect<{ message: WireMessage }>(socket, 'notification:new');

    await cycle(attacker, victim, CYCLES);
    await waitUntil(() => pushed.length > 0, 5000, 'the first follow notification');
    await quietPeriod();

    expect(pushed.map((p) => [p.message.messageType, ((p.message.metadata as Record<string, unknown>).follower as { id: string }).id])).toEqual([
      ['SYSTEM_FOLLOW', attacker.id],
    ]);
    expect((await systemList(victim)).map((m) => m.messageType)).toEqual(['SYSTEM_FOLLOW']);
    expect((await s.request('GET', '/api/messages/unread/count', { token: victim.token })).body.system).toBe(1);
  });

  it('re-making a friendship by cycling announces it once to each side', async () => {
    const [attacker, victim] = [await s.register(), await s.register()];
    await follow(victim, attacker);
    const socket = await s.connect(victim);
    const pushed = collect<{ message: WireMessage }>(socket, 'notification:new');

    // Every re-follow makes the two friends again.
    await cycle(attacker, victim, CYCLES);
    await waitUntil(() => pushed.length >= 3, 5000, 'follow, friend and achievement notifications');
    await quietPeriod();

    expect(pushed.map((p) => p.message.messageType).sort()).toEqual(['SYSTEM_ACHIEVEMENT', 'SYSTEM_FOLLOW', 'SYSTEM_FRIEND']);
    expect((await systemList(victim)).map((m) => m.messageType).sort()).toEqual(['SYSTEM_ACHIEVEMENT', 'SYSTEM_FOLLOW', 'SYSTEM_FRIEND']);
    expect(await ofType(attacker, 'SYSTEM_FRIEND')).toHaveLength(1);
    expect(await ofType(attacker, 'SYSTEM_FOLLOW')).toHaveLength(1); // the victim's one follow
  });

  it('the same follower notifies again once a day has passed, not before', async () => {
    const [fan, idol] = [await s.register(), await s.register()];
    await cycle(fan, idol, 1);
    expect(await ofType(idol, 'SYSTEM_FOLLOW')).toHaveLength(1);

    await age(idol, 23);
    await cycle(fan, idol, 1);
    expect(await ofType(idol, 'SYSTEM_FOLLOW')).toHaveLength(1);

    await age(idol, 2);
    await cycle(fan, idol, 3);
    expect(await ofType(idol, 'SYSTEM_FOLLOW')).toHaveLength(2);
  });

  it('another follower of the same person is announced on its own', async () => {
    const [first, second, idol] = [await s.register(), await s.register(), await s.register()];
    await cycle(first, idol, 3);
    await cycle(second, idol, 3);
    const followers = (await ofType(idol, 'SYSTEM_FOLLOW')).map((m) => ((m.metadata as Record<string, unknown>).follower as { id: string }).id);
    expect(followers.sort()).toEqual([first.id, second.id].sort());
  });
});

describe.each(dbTargets())('the follow rate limit on %s', (target) => {
  const budget = loadConfig({}).followRateLimit;
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target, config: { followRateLimit: budget } });
  });
  afterAll(async () => s.close());

  it(`allows ${budget} follow/unfollow actions a minute per user, then answers 429 RATE_LIMITED`, async () => {
    const [me, other, bystander] = [await s.register(), await s.register(), await s.register()];
    for (let i = 0; i < budget; i++) {
      const r = await s.request(i % 2 === 0 ? 'POST' : 'DELETE', `/api/follows/${other.id}`, { token: me.token });
      expect(r.status).toBeLessThan(300);
    }
    for (const method of ['POST', 'DELETE']) {
      const r = await s.request(method, `/api/follows/${other.id}`, { token: me.token });
      expect(r).toEqual({ status: 429, body: { error: { code: 'RATE_LIMITED', message: expect.any(String) } } });
    }
    // The budget is mine: someone else still follows.
    expect((await s.request('POST', `/api/follows/${other.id}`, { token: bystander.token })).status).toBe(201);
  });
});

const missing = ['DATABASE_URL', 'REDIS_URL'].filter((v) => !process.env[v]);
describe.skipIf(missing.length > 0)('the follow rate limit across two nodes sharing Redis', () => {
  const budget = 10;
  let db: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const config = { redisUrl: process.env.REDIS_URL, redisPrefix: `fc-test-${randomBytes(4).toString('hex')}:`, followRateLimit: budget };
    a = await startServer({ target: 'postgres', database: db, config });
    b = await startServer({ target: 'postgres', database: db, config });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it('counts the actions a user makes through either node against one budget', async () => {
    const [me, other] = [await a.register(), await a.register()];
    for (let i = 0; i < budget; i++) {
      const node = i % 2 === 0 ? a : b;
      const r = await node.request(i % 4 < 2 ? 'POST' : 'DELETE', `/api/follows/${other.id}`, { token: me.token });
      expect(r.status).toBeLessThan(300);
    }
    expect((await a.request('POST', `/api/follows/${other.id}`, { token: me.token })).status).toBe(429);
    expect((await b.request('POST', `/api/follows/${other.id}`, { token: me.token })).status).toBe(429);
  });
});
