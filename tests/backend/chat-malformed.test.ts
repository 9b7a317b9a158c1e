import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverSocket, waitUntil } from '../helpers/chat.ts';

const ID = '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const huge = (n: number) => 'x'.repeat(n);

/** Every client event with payloads that must be refused with VALIDATION. `to`/`peerId` are filled in per test. */
function cases(peer: string): [string, string, unknown][] {
  const send = { to: peer, content: 'hi', clientId: 'c-1' };
  return [
    // chat:send
    ['chat:send', 'an empty object', {}],
    ['chat:send', 'no clientId', { to: peer, content: 'hi' }],
    ['chat:send', 'no content', { to: peer, clientId: 'c-1' }],
    ['chat:send', 'no recipient', { content: 'hi', clientId: 'c-1' }],
    ['chat:send', 'a string payload', 'hello'],
    ['chat:send', 'a number payload', 42],
    ['chat:send', 'an array payload', [peer, 'hi', 'c-1']],
    ['chat:send', 'a null payload', null],
    ['chat:send', 'a numeric recipient', { ...send, to: 12345 }],
    ['chat:send', 'a malformed recipient id (over 64 characters)', { ...send, to: 'b'.repeat(65) }],
    ['chat:send', 'a numeric recipient id', { ...send, to: 42 }],
    ['chat:send', 'numeric content', { ...send, content: 42 }],
    ['chat:send', 'object content', { ...send, content: { text: 'hi' } }],
    ['chat:send', 'array content', { ...send, content: ['hi'] }],
    ['chat:send', 'a numeric clientId', { ...send, clientId: 7 }],
    ['chat:send', 'an empty clientId', { ...send, clientId: '' }],
    ['chat:send', 'blank content', { ...send, content: ' \n ' }],
    ['chat:send', 'content over 2000 characters', { ...send, content: huge(2001) }],
    ['chat:send', 'a 50 kB content string', { ...send, content: huge(50_000) }],
    ['chat:send', 'a 50 kB clientId', { ...send, clientId: huge(50_000) }],
    ['chat:send', 'a 50 kB recipient', { ...send, to: huge(50_000) }],
    ['chat:send', 'an extra field', { ...send, admin: true }],
    ['chat:send', 'an own __proto__ field', JSON.parse(`{"to":"${peer}","content":"hi","clientId":"c-1","__proto__":{"admin":true}}`)],
    // chat:read
    ['chat:read', 'an empty object', {}],
    ['chat:read', 'a string payload', peer],
    ['chat:read', 'a numeric peer', { peerId: 1 }],
    ['chat:read', 'a malformed peer id (over 64 characters)', { peerId: 'a'.repeat(65) }],
    ['chat:read', 'a 50 kB peer id', { peerId: huge(50_000) }],
    ['chat:read', 'an extra field', { peerId: peer, all: true }],
    // chat:typing
    ['chat:typing', 'an empty object', {}],
    ['chat:typing', 'no typing flag', { to: peer }],
    ['chat:typing', 'a string typing flag', { to: peer, typing: 'yes' }],
    ['chat:typing', 'a malformed recipient id (over 64 characters)', { to: 'x'.repeat(65), typing: true }],
    ['chat:typing', 'a boolean payload', true],
    ['chat:typing', 'an extra field', { to: peer, typing: true, text: 'secret draft' }],
    // chat:sync
    ['chat:sync', 'a numeric cursor', { after: 5 }],
    ['chat:sync', 'an empty cursor', { after: '' }],
    ['chat:sync', 'a cursor that is not one', { after: 'bm9wZQ' }],
    ['chat:sync', 'a 50 kB cursor', { after: huge(50_000) }],
    ['chat:sync', 'a string limit', { limit: '10' }],
    ['chat:sync', 'a boolean limit', { limit: true }],
    ['chat:sync', 'an array limit', { limit: [5] }],
    ['chat:sync', 'a limit over 100', { limit: 101 }],
    ['chat:sync', 'a limit of 0', { limit: 0 }],
    ['chat:sync', 'a fractional limit', { limit: 1.5 }],
    ['chat:sync', 'a string payload', 'after'],
    ['chat:sync', 'an extra field', { limit: 5, everyone: true }],
    // presence:list
    ['presence:list', 'a string payload', 'all'],
    ['presence:list', 'an array payload', []],
    ['presence:list', 'an extra field', { userIds: [peer] }],
  ];
}

describe.each(dbTargets())('malformed socket payloads on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let mallory: TestUser;
  let malloryTab: ClientSocket;
  let aliceTab: ClientSocket;
  let bobTab: ClientSocket;

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob] = await friendPair(s);
    mallory = await s.register();
    await s.makeFriends(mallory, bob);
    aliceTab = await s.connect(alice);
    bobTab = await s.connect(bob);
  });
  afterAll(async () => s.close());

  /** After whatever mallory did: alice and bob still chat both ways, live. */
  async function othersStillChat() {
    const toBob = waitFor(bobTab, 'chat:message');
    const ack = await sendOverSocket(aliceTab, bob.id, 'still here?');
    expect(ack.ok).toBe(true);
    expect((await toBob).message.id).toBe(ack.message.id);
    const toAlice = waitFor(aliceTab, 'chat:message');
    const back = await sendOverSocket(bobTab, alice.id, 'yes');
    expect((await toAlice).message.id).toBe(back.message.id);
  }

  describe.each(['chat:send', 'chat:read', 'chat:typing', 'chat:sync', 'presence:list'])('%s', (event) => {
    beforeAll(async () => {
      // A fresh socket per event keeps each well under the per-socket flood limit.
      malloryTab = await s.connect(mallory);
    });

    it.each(cases(ID).filter(([e]) => e === event).map(([, name, payload]) => [name, payload]))(
      'answers VALIDATION for %s',
      async (_name, payload) => {
        // `to`/`peerId` point at bob, a friend, so only the shape can be what is wrong.
        const withPeer = JSON.parse(JSON.stringify(payload ?? null).replaceAll(ID, bob.id));
        const ack = await emitAck(malloryTab, event, withPeer);
        expect(ack).toEqual({ ok: false, error: { code: 'VALIDATION', message: expect.any(String) } });
        expect(ack.error.message.length).toBeLessThan(1000);
      },
    );

    it('keeps serving this socket and everyone else afterwards', async () => {
      expect(malloryTab.connected).toBe(true);
      expect(await emitAck(malloryTab, 'presence:list', {})).toMatchObject({ ok: true });
      await othersStillChat();
    });
  });

  it('stores nothing for a refused send', async () => {
    const h = await s.request('GET', `/api/messages/${bob.id}`, { token: mallory.token });
    expect(h.body.messages).toEqual([]);
  });

  it('survives events sent without an ack callback, valid or not, and still delivers the valid ones', async () => {
    const tab = await s.connect(mallory);
    const emitRaw = tab.emit.bind(tab) as (event: string, ...args: unknown[]) => void;
    for (const event of ['chat:send', 'chat:read', 'chat:typing', 'chat:sync', 'presence:list']) {
      emitRaw(event);
      emitRaw(event, { nonsense: true });
      emitRaw(event, 'text');
    }
    const delivered = waitFor(bobTab, 'chat:message', 5000, (p: { message: WireMessage }) => p.message.fromUserId === mallory.id);
    emitRaw('chat:send', { to: bob.id, content: 'no ack wanted', clientId: randomUUID() });
    expect((await delivered).message.content).toBe('no ack wanted');
    expect(tab.connected).toBe(true);
    expect(await emitAck(tab, 'presence:list', {})).toMatchObject({ ok: true });
    await othersStillChat();
  });

  it('answers a client that passes the ack as the only argument', async () => {
    const tab = await s.connect(mallory);
    const emitRaw = tab.emit.bind(tab) as (event: string, ...args: unknown[]) => void;
    const ask = (event: string) => new Promise<{ ok: boolean; error?: ErrorBody }>((resolve) => emitRaw(event, resolve));
    expect(await ask('presence:list')).toEqual({ ok: true, online: expect.any(Array) });
    expect(await ask('chat:sync')).toMatchObject({ ok: true, messages: expect.any(Array), hasMore: expect.any(Boolean) });
    expect((await ask('chat:send')).error?.code).toBe('VALIDATION');
  });

  it('ignores events that are not part of the contract', async () => {
    const tab = await s.connect(mallory);
    const emitRaw = tab.emit.bind(tab) as (event: string, ...args: unknown[]) => void;
    emitRaw('chat:delete-everything', { all: true }, () => {});
    emitRaw('admin:shutdown');
    expect(await emitAck(tab, 'presence:list', {})).toMatchObject({ ok: true });
    await othersStillChat();
  });

  it('cuts off only the socket that sends an oversized packet', async () => {
    const tab = await s.connect(mallory);
    const gone = new Promise<void>((resolve) => tab.once('disconnect', () => resolve()));
    const emitRaw = tab.emit.bind(tab) as (event: string, ...args: unknown[]) => void;
    emitRaw('chat:send', { to: bob.id, content: huge(200_000), clientId: 'big' }, () => {});
    await gone;
    await othersStillChat();
    // Mallory can come back at once.
    const again = await s.connect(mallory);
    expect((await sendOverSocket(again, bob.id, 'sorry')).ok).toBe(true);
  });

  it('cuts off a socket that floods events, and keeps serving the others', async () => {
    const tab = await s.connect(mallory);
    const gone = new Promise<void>((resolve) => tab.once('disconnect', () => resolve()));
    const emitRaw = tab.emit.bind(tab) as (event: string, ...args: unknown[]) => void;
    for (let i = 0; i < 500; i++) emitRaw('chat:typing', { to: bob.id, typing: i % 2 === 0 });
    await gone;
    await waitUntil(async () => (await s.app.io.in(mallory.id).fetchSockets()).every((x) => x.id !== tab.id));
    await othersStillChat();
  });

  it('keeps serving HTTP after all of it', async () => {
    await quietPeriod();
    expect((await s.request('GET', '/api/health')).body).toMatchObject({ ok: true });
    expect((await s.request('GET', '/api/messages/unread/count', { token: bob.token })).status).toBe(200);
  });
});

describe.each(dbTargets())('malformed HTTP chat requests on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob] = await friendPair(s);
  });
  afterAll(async () => s.close());

  it.each([
    ['malformed JSON', { raw: '{"content": "hi",' }],
    ['a JSON array', { raw: '["hi"]' }],
    ['a JSON string', { raw: '"hi"' }],
    ['no body', {}],
    ['numeric content', { body: { content: 42 } }],
    ['an extra field', { body: { content: 'hi', fromUserId: '00000000-0000-0000-0000-000000000000' } }],
    ['a numeric clientId', { body: { content: 'hi', clientId: 1 } }],
  ])('answers 400 VALIDATION to a send with %s', async (_name, opts) => {
    const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, ...opts });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
  });

  it('answers 400 VALIDATION to a body over the size limit, and keeps serving', async () => {
    const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: huge(100_000) } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('VALIDATION');
    expect((await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'ok' } })).status).toBe(201);
  });
});
