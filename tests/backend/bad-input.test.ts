// Issue 11, point 6: inputs that used to answer 500 answer 400 VALIDATION (or 401 for a token
// whose user is gone), and the server keeps working for everyone afterwards.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { emitAck } from '../helpers/wait.ts';
import { friendPair, sendOverHttp, sendOverSocket } from '../helpers/chat.ts';

const cursorOf = (raw: string) => Buffer.from(raw).toString('base64url');

function expectError(r: { status: number; body: unknown }, status: number, code: string) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: { code, message: expect.any(String) } });
}

describe.each(dbTargets())('bad input on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob] = await friendPair(s);
    await sendOverHttp(s, alice, bob.id, 'hello');
  });
  afterAll(async () => s.close());
  afterEach(async () => {
    // Whatever was refused, alice and bob still chat.
    expect((await s.request('GET', '/api/health')).body).toMatchObject({ ok: true });
    expect((await sendOverHttp(s, bob, alice.id, 'still here')).content).toBe('still here');
  });

  describe('cursors with a time no message can have', () => {
    const far = [
      ['999999999999999 (the year 33658)', cursorOf(`999999999999999:${randomUUID()}`)],
      ['the largest time a Date holds', cursorOf(`8640000000000000:${randomUUID()}`)],
      ['one past year 9999', cursorOf(`253402300800000:${randomUUID()}`)],
    ];

    it.each(far)('history, sync and the system list answer 400 VALIDATION to %s', async (_name, cursor) => {
      for (const path of [
        `/api/messages/${bob.id}?before=${cursor}`,
        `/api/messages/sync?after=${cursor}`,
        `/api/messages/system/list?before=${cursor}`,
      ]) {
        const r = await s.request('GET', path, { token: alice.token });
        expect([path, r.status, r.body?.error?.code]).toEqual([path, 400, 'VALIDATION']);
      }
    });

    it.each(far)('chat:sync answers VALIDATION to %s and keeps the socket', async (_name, cursor) => {
      const tab = await s.connect(alice);
      expect(await emitAck(tab, 'chat:sync', { after: cursor })).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
      expect(tab.connected).toBe(true);
      tab.disconnect();
    });

    it('still takes a far but storable time (the end of year 9999): nothing is older than it', async () => {
      const cursor = cursorOf(`253402300799999:${randomUUID()}`);
      const history = await s.request('GET', `/api/messages/${bob.id}?before=${cursor}`, { token: alice.token });
      expect(history.status).toBe(200);
      expect(history.body.messages.map((m: WireMessage) => m.content)).toContain('hello');
      const sync = await s.request('GET', `/api/messages/sync?after=${cursor}`, { token: alice.token });
      expect(sync.body).toEqual({ messages: [], nextCursor: cursor, hasMore: false });
    });
  });

  describe('Content-Encoding of a JSON body', () => {
    const post = async (encoding: string, body: Buffer) => {
      const res = await fetch(`${s.url}/api/messages/${bob.id}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return { status: res.status, body: (await res.json()) as any };
    };
    const json = Buffer.from(JSON.stringify({ content: 'compressed' }));

    it.each([
      ['br', json],
      ['deflate', json],
      ['zstd', json],
      ['x-unknown', json],
      ['gzip, x-unknown', json],
      ['gzip (broken)', gzipSync(json).subarray(0, 12)],
      ['gzip (not gzip at all)', json],
    ])('answers 400 VALIDATION to %s', async (encoding, body) => {
      expectError(await post(encoding.replace(/ \(.*\)$/, ''), body), 400, 'VALIDATION');
    });

    it('still reads a well-formed gzip body', async () => {
      const r = await post('gzip', gzipSync(json));
      expect(r.status).toBe(201);
      expect(r.body.message.content).toBe('compressed');
    });
  });

  describe('ill-formed UTF-16 (a lone surrogate)', () => {
    const lone = ['\uD800', 'a\uDC00b', 'x\uD83D'];

    it.each(lone.map((t) => [JSON.stringify(t), t]))('answers 400 VALIDATION to %s as clientId or content, over HTTP', async (_n, text) => {
      expectError(await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'hi', clientId: text } }), 400, 'VALIDATION');
      expectError(await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: text } }), 400, 'VALIDATION');
    });

    it('answers VALIDATION to them over the socket', async () => {
      const tab = await s.connect(alice);
      for (const text of lone) {
        expect((await emitAck(tab, 'chat:send', { to: bob.id, content: 'hi', clientId: text })).error.code).toBe('VALIDATION');
        expect((await emitAck(tab, 'chat:send', { to: bob.id, content: text, clientId: randomUUID() })).error.code).toBe('VALIDATION');
      }
      tab.disconnect();
    });

    it('keeps resends idempotent for a clientId with a surrogate pair (an emoji)', async () => {
      const clientId = `c-😀-${randomUUID()}`;
      const first = await sendOverHttp(s, alice, bob.id, 'emoji id', clientId);
      expect(await sendOverHttp(s, alice, bob.id, 'emoji id', clientId)).toEqual(first);
      const tab = await s.connect(alice);
      expect((await sendOverSocket(tab, bob.id, 'emoji id', clientId)).message).toEqual(first);
      tab.disconnect();
    });
  });

  describe('a valid token whose user no longer exists', () => {
    async function goneUser(): Promise<TestUser> {
      const u = await s.register();
      await s.app.hostDb.prisma.user.delete({ where: { id: u.id } });
      return u;
    }

    it('answers 401 UNAUTHORIZED on HTTP, where it used to answer 500', async () => {
      const gone = await goneUser();
      const task = (await s.request('GET', '/api/tasks', { token: alice.token })).body.tasks[0];
      expectError(await s.request('GET', '/api/me', { token: gone.token }), 401, 'UNAUTHORIZED');
      expectError(await s.request('POST', '/api/works', { token: gone.token, body: { title: 'ghost', price: 1 } }), 401, 'UNAUTHORIZED');
      expectError(await s.request('POST', `/api/tasks/${task.id}/complete`, { token: gone.token }), 401, 'UNAUTHORIZED');
      expectError(await s.request('GET', '/api/messages/sync', { token: gone.token }), 401, 'UNAUTHORIZED');
    });

    it('refuses the socket with connect_error "unauthorized"', async () => {
      const gone = await goneUser();
      const err = await s.connect(gone).then(
        () => new Error('connected'),
        (e: Error) => e,
      );
      expect(err.message).toBe('unauthorized');
    });
  });
});
