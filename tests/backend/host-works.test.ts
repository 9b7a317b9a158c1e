// Issue 2: the host app's works, purchases and tasks under bad input. Every error answers
// `{ error: { code, message } }` and the server keeps serving after it.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PublicUser, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';

const pub = (u: TestUser): PublicUser => ({ id: u.id, username: u.username, displayName: u.displayName, avatarUrl: u.avatarUrl });

function expectError(r: { status: number; body: unknown }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe.each(dbTargets())('host works and tasks on %s', (target) => {
  let s: TestServer;
  let watcher: TestUser;
  beforeAll(async () => {
    s = await startServer({ target });
    watcher = await s.register();
  });
  afterAll(async () => s.close());
  afterEach(async () => {
    expect((await s.request('GET', '/api/health')).status).toBe(200);
    expect((await s.request('GET', '/api/me', { token: watcher.token })).status).toBe(200);
  });

  const createWork = (u: TestUser, body: unknown) => s.request('POST', '/api/works', { token: u.token, body });
  const buy = (u: TestUser, workId: string) => s.request('POST', `/api/works/${workId}/purchase`, { token: u.token });
  const worksOf = async (owner: TestUser, viewer: TestUser = owner) =>
    (await s.request('GET', '/api/works', { token: viewer.token })).body.works.filter((w: { owner: PublicUser }) => w.owner.id === owner.id);
  const systemOfType = async (u: TestUser, type: string): Promise<WireMessage[]> =>
    (await s.request('GET', '/api/messages/system/list?limit=100', { token: u.token })).body.messages.filter(
      (m: WireMessage) => m.messageType === type,
    );
  const completeTask = (u: TestUser, id: string) => s.request('POST', `/api/tasks/${id}/complete`, { token: u.token });

  describe('works', () => {
    it('POST /api/works answers 201 { work } with the trimmed title, the price and its owner', async () => {
      const me = await s.register();
      const r = await createWork(me, { title: '  Blue period  ', price: 25 });
      expect(r).toEqual({
        status: 201,
        body: { work: { id: expect.any(String), title: 'Blue period', price: 25, owner: pub(me), createdAt: expect.any(String), purchasedByMe: false } },
      });
      expect(await worksOf(me)).toEqual([r.body.work]);
    });

    it('a free work (price 0) is allowed', async () => {
      const me = await s.register();
      expect((await createWork(me, { title: 'Gift', price: 0 })).body.work.price).toBe(0);
    });

    it.each([
      ['a fractional price', { title: 'x', price: 1.5 }],
      ['a negative price', { title: 'x', price: -1 }],
      ['a price in a string', { title: 'x', price: '10' }],
      ['a missing price', { title: 'x' }],
      ['a null price', { title: 'x', price: null }],
      ['a missing title', { price: 1 }],
      ['a blank title', { title: '   ', price: 1 }],
      ['a title that is not a string', { title: 42, price: 1 }],
      ['a title over 120 characters', { title: 'x'.repeat(121), price: 1 }],
      ['an extra field', { title: 'x', price: 1, ownerId: randomUUID() }],
      ['an array body', [{ title: 'x', price: 1 }]],
    ])('answers 400 VALIDATION for %s, and creates nothing', async (_name, body) => {
      const me = await s.register();
      expectError(await createWork(me, body), 400, 'VALIDATION');
      expect(await worksOf(me)).toEqual([]);
    });

    it.each([
      ['malformed JSON', '{"title": "x", "price": '],
      ['a bare string', '"just a string"'],
      ['a number too large for JSON numbers', '{"title": "x", "price": 1e400}'],
    ])('answers 400 VALIDATION for %s', async (_name, raw) => {
      const me = await s.register();
      expectError(await s.request('POST', '/api/works', { token: me.token, raw }), 400, 'VALIDATION');
      expect(await worksOf(me)).toEqual([]);
    });
  });

  describe('purchases', () => {
    it('a purchase answers 201 { purchase } and the work shows as bought, to the buyer only', async () => {
      const [seller, buyer, other] = [await s.register(), await s.register(), await s.register()];
      const work = (await createWork(seller, { title: 'Harbour', price: 30 })).body.work;
      const r = await buy(buyer, work.id);
      expect(r).toEqual({
        status: 201,
        body: { purchase: { id: expect.any(String), workId: work.id, buyerId: buyer.id, price: 30, createdAt: expect.any(String) } },
      });
      expect((await worksOf(seller, buyer))[0].purchasedByMe).toBe(true);
      expect((await worksOf(seller, other))[0].purchasedByMe).toBe(false);
    });

    it('buying your own work answers 400 VALIDATION and notifies nobody', async () => {
      const me = await s.register();
      const work = (await createWork(me, { title: 'Mine', price: 1 })).body.work;
      expectError(await buy(me, work.id), 400, 'VALIDATION');
      expect(await systemOfType(me, 'SYSTEM_PURCHASE')).toEqual([]);
      expect((await worksOf(me))[0].purchasedByMe).toBe(false);
    });

    it.each([randomUUID(), '00000000-0000-0000-0000-000000000001'])('buying a missing work %s answers 404 NOT_FOUND', async (id) => {
      const me = await s.register();
      expectError(await buy(me, id), 404, 'NOT_FOUND');
    });

    it.each(['abc', '1', `${randomUUID()}x`])('buying a malformed id %s answers 400 VALIDATION', async (id) => {
      const me = await s.register();
      expectError(await buy(me, id), 400, 'VALIDATION');
    });

    it('buying twice answers 409 CONFLICT and notifies the seller once', async () => {
      const [seller, buyer] = [await s.register(), await s.register()];
      const work = (await createWork(seller, { title: 'Once only', price: 3 })).body.work;
      expect((await buy(buyer, work.id)).status).toBe(201);
      expectError(await buy(buyer, work.id), 409, 'CONFLICT');
      expect(await systemOfType(seller, 'SYSTEM_PURCHASE')).toHaveLength(1);
    });

    it('a double click (two purchases at once) buys once: one 201, one 409, one notification', async () => {
      const [seller, buyer] = [await s.register(), await s.register()];
      const work = (await createWork(seller, { title: 'Double click', price: 4 })).body.work;
      const rs = await Promise.all([buy(buyer, work.id), buy(buyer, work.id), buy(buyer, work.id)]);
      expect(rs.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      for (const r of rs.filter((x) => x.status === 409)) expectError(r, 409, 'CONFLICT');
      expect(await systemOfType(seller, 'SYSTEM_PURCHASE')).toHaveLength(1);
    });

    it('requires a token', async () => {
      expectError(await s.request('GET', '/api/works'), 401, 'UNAUTHORIZED');
      expectError(await s.request('POST', '/api/works', { body: { title: 'x', price: 1 } }), 401, 'UNAUTHORIZED');
      expectError(await s.request('POST', `/api/works/${randomUUID()}/purchase`), 401, 'UNAUTHORIZED');
    });
  });

  describe('tasks', () => {
    it('GET /api/tasks lists one catalogue for everyone, with my completion state', async () => {
      const [a, b] = [await s.register(), await s.register()];
      const ta = (await s.request('GET', '/api/tasks', { token: a.token })).body.tasks;
      expect(ta.length).toBeGreaterThan(1);
      for (const t of ta) {
        expect(t).toEqual({
          id: expect.any(String),
          code: expect.any(String),
          title: expect.any(String),
          description: expect.any(String),
          reward: expect.any(Number),
          completed: false,
          completedAt: null,
        });
      }
      const done = await completeTask(a, ta[0].id);
      expect(done).toEqual({ status: 201, body: { task: { ...ta[0], completed: true, completedAt: expect.any(String) } } });
      const after = (await s.request('GET', '/api/tasks', { token: a.token })).body.tasks;
      expect(after[0]).toEqual(done.body.task);
      const forB = (await s.request('GET', '/api/tasks', { token: b.token })).body.tasks;
      expect(forB.map((t: { id: string }) => t.id)).toEqual(ta.map((t: { id: string }) => t.id));
      expect(forB.every((t: { completed: boolean }) => !t.completed)).toBe(true);
    });

    it('completing a task again answers 409 CONFLICT and notifies once', async () => {
      const me = await s.register();
      const [t] = (await s.request('GET', '/api/tasks', { token: me.token })).body.tasks;
      expect((await completeTask(me, t.id)).status).toBe(201);
      expectError(await completeTask(me, t.id), 409, 'CONFLICT');
      expect(await systemOfType(me, 'SYSTEM_TASK')).toHaveLength(1);
    });

    it('completing the same task twice at once: one 201, one 409, one notification', async () => {
      const me = await s.register();
      const [t] = (await s.request('GET', '/api/tasks', { token: me.token })).body.tasks;
      const rs = await Promise.all([completeTask(me, t.id), completeTask(me, t.id)]);
      expect(rs.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(await systemOfType(me, 'SYSTEM_TASK')).toHaveLength(1);
    });

    it('a task another user completed is still open for me', async () => {
      const [a, b] = [await s.register(), await s.register()];
      const [t] = (await s.request('GET', '/api/tasks', { token: a.token })).body.tasks;
      expect((await completeTask(a, t.id)).status).toBe(201);
      expect((await completeTask(b, t.id)).status).toBe(201);
    });

    it.each([randomUUID(), '00000000-0000-0000-0000-000000000001'])('an unknown task %s answers 404 NOT_FOUND', async (id) => {
      const me = await s.register();
      expectError(await completeTask(me, id), 404, 'NOT_FOUND');
    });

    it.each(['abc', 'DAILY_CHECK_IN', `${randomUUID()}-1`])('a malformed task id %s answers 400 VALIDATION', async (id) => {
      const me = await s.register();
      expectError(await completeTask(me, id), 400, 'VALIDATION');
    });

    it('requires a token', async () => {
      expectError(await s.request('GET', '/api/tasks'), 401, 'UNAUTHORIZED');
      expectError(await s.request('POST', `/api/tasks/${randomUUID()}/complete`), 401, 'UNAUTHORIZED');
      expectError(await s.request('GET', '/api/achievements'), 401, 'UNAUTHORIZED');
    });
  });

  it('an unknown endpoint answers 404 NOT_FOUND in the same error shape', async () => {
    expectError(await s.request('GET', '/api/nothing-here', { token: watcher.token }), 404, 'NOT_FOUND');
  });
});
