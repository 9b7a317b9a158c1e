import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer } from '../helpers/server.ts';
import { collect, emitAck, sleep, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp, sendOverSocket, waitUntil } from '../helpers/chat.ts';

const UNKNOWN_ID = '6f1c7a52-3b8e-4d0a-9c1e-2f4b5a6d7e8f';

describe.each(dbTargets())('sending chat messages on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  // Memory per idle connection (bench/README.md): the chat events' listeners are made once per
  // node and shared by every socket, which finds its user through `this`. Each socket still acts
  // as its own user (every other test here).
  it('gives every socket the same listener for each chat event, not closures of its own', async () => {
    const [alice, bob] = await friendPair(s);
    const tabs = [await s.connect(alice), await s.connect(alice), await s.connect(bob)];
    const server = [...(await s.app.io.in(alice.id).fetchSockets()), ...(await s.app.io.in(bob.id).fetchSockets())] as unknown as {
      listeners(event: string): unknown[];
    }[];
    expect(server).toHaveLength(3);
    const events = ['chat:send', 'chat:read', 'chat:sync', 'chat:typing', 'chat:delivered', 'chat:edit', 'chat:react', 'presence:list'];
    for (const event of events) {
      const each = server.map((socket) => socket.listeners(event));
      expect(each.every((l) => l.length === 1), event).toBe(true);
      expect(new Set(each.map((l) => l[0])).size, event).toBe(1);
    }
    const ack = await sendOverSocket(tabs[2]!, alice.id, 'from the shared listener');
    expect(ack.ok).toBe(true);
    expect(ack.message.fromUserId).toBe(bob.id);
    for (const tab of tabs) tab.close();
  });

  describe('who may be messaged', () => {
    it('refuses a message to a non-friend with 403 NOT_FRIENDS over HTTP and stores nothing', async () => {
      const alice = await s.register();
      const carol = await s.register();
      await s.follow(alice, carol); // one-way follow is not friendship
      const r = await s.request('POST', `/api/messages/${carol.id}`, { token: alice.token, body: { content: 'hi' } });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('NOT_FRIENDS');
      const history = await s.request('GET', `/api/messages/${alice.id}`, { token: carol.token });
      expect(history.body.messages).toEqual([]);
    });

    it('refuses a message to a non-friend with a NOT_FRIENDS ack over the socket, and the stranger receives nothing', async () => {
      const alice = await s.register();
      const carol = await s.register();
      const carolSocket = await s.connect(carol);
      const got = collect(carolSocket, 'chat:message');
      const ack = await sendOverSocket(await s.connect(alice), carol.id, 'hi');
      expect(ack).toEqual({ ok: false, error: { code: 'NOT_FRIENDS', message: expect.any(String) } });
      await quietPeriod();
      expect(got).toEqual([]);
    });

    it('answers 404 NOT_FOUND for a well-formed unknown user, over HTTP and over the socket', async () => {
      const alice = await s.register();
      const r = await s.request('POST', `/api/messages/${UNKNOWN_ID}`, { token: alice.token, body: { content: 'hi' } });
      expect(r.status).toBe(404);
      expect(r.body.error.code).toBe('NOT_FOUND');
      const ack = await sendOverSocket(await s.connect(alice), UNKNOWN_ID, 'hi');
      expect(ack.ok).toBe(false);
      expect(ack.error.code).toBe('NOT_FOUND');
    });

    // User ids are the host's strings (DESIGN.md, "Module boundary"): 1–64 characters. Any other
    // string is a user the host does not know (404); only what cannot be an id is malformed.
    it('answers 400 VALIDATION for a malformed user id, and 404 for a string the host does not know', async () => {
      const alice = await s.register();
      for (const bad of ['x'.repeat(65), encodeURIComponent('a\u0000b')]) {
        const r = await s.request('POST', `/api/messages/${bad}`, { token: alice.token, body: { content: 'hi' } });
        expect(r.status, bad).toBe(400);
        expect(r.body.error.code).toBe('VALIDATION');
      }
      for (const unknown of ['not-a-uuid', '123', `${UNKNOWN_ID}x`]) {
        const r = await s.request('POST', `/api/messages/${unknown}`, { token: alice.token, body: { content: 'hi' } });
        expect(r.status, unknown).toBe(404);
        expect(r.body.error.code).toBe('NOT_FOUND');
      }
    });

    it('refuses a message to oneself with 400 VALIDATION', async () => {
      const alice = await s.register();
      const r = await s.request('POST', `/api/messages/${alice.id}`, { token: alice.token, body: { content: 'hi me' } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
    });

    it('blocks sending after an unfollow, while the history stays readable to both', async () => {
      const [alice, bob] = await friendPair(s);
      const before = await sendOverHttp(s, alice, bob.id, 'while we were friends');
      const un = await s.request('DELETE', `/api/follows/${alice.id}`, { token: bob.token });
      expect(un.body).toEqual({ following: false, friends: false });

      const http = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'still there?' } });
      expect(http.status).toBe(403);
      expect(http.body.error.code).toBe('NOT_FRIENDS');
      const socketBack = await sendOverSocket(await s.connect(bob), alice.id, 'no');
      expect(socketBack.error.code).toBe('NOT_FRIENDS');

      for (const [me, peer] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const h = await s.request('GET', `/api/messages/${peer.id}`, { token: me.token });
        expect(h.status).toBe(200);
        expect(h.body.messages.map((m: { id: string }) => m.id)).toEqual([before.id]);
      }
    });
  });

  describe('delivery', () => {
    it('acks the sender and delivers to every tab of the recipient and the sender’s other tab, but not back to the sending socket', async () => {
      const [alice, bob] = await friendPair(s);
      const aliceTab1 = await s.connect(alice);
      const aliceTab2 = await s.connect(alice);
      const bobTab = await s.connect(bob);
      const bobPhone = await s.connect(bob);
      const echoed = collect(aliceTab1, 'chat:message');
      const toBob = waitFor(bobTab, 'chat:message');
      const toBobPhone = waitFor(bobPhone, 'chat:message');
      const toTab2 = waitFor(aliceTab2, 'chat:message');

      const clientId = randomUUID();
      const ack = await sendOverSocket(aliceTab1, bob.id, '  hello <b>bob</b>  ', clientId);
      expect(ack).toEqual({
        ok: true,
        message: {
          id: expect.any(String),
          fromUserId: alice.id,
          toUserId: bob.id,
          groupId: null,
          messageType: 'CHAT',
          content: 'hello <b>bob</b>', // trimmed, stored as plain text
          metadata: {},
          clientId,
          isRead: false,
          readAt: null,
          createdAt: expect.any(String),
          // Rich messages (round 2): a text message carries neither an attachment nor a location.
          kind: 'text',
          attachment: null,
          location: null,
          // Message lifecycle (round 2): nothing happened to it yet.
          deliveredAt: null,
          editedAt: null,
          deletedAt: null,
          replyTo: null,
          reactions: [],
        },
      });
      expect(new Date(ack.message.createdAt).toISOString()).toBe(ack.message.createdAt);
      expect(await toBob).toEqual({ message: ack.message });
      expect(await toBobPhone).toEqual({ message: ack.message });
      expect(await toTab2).toEqual({ message: ack.message });

      // A later message from bob reaches aliceTab1, so the earlier echo would have arrived by now.
      const fromBob = waitFor(aliceTab1, 'chat:message');
      const reply = await sendOverSocket(bobTab, alice.id, 'hi alice');
      await fromBob;
      await quietPeriod();
      expect(echoed.map((p) => p.message.id)).toEqual([reply.message.id]);
    });

    it('delivers a message sent over HTTP live to the recipient and to every tab of the sender', async () => {
      const [alice, bob] = await friendPair(s);
      const aliceTab = await s.connect(alice);
      const bobTab = await s.connect(bob);
      const toBob = waitFor(bobTab, 'chat:message');
      const toAlice = waitFor(aliceTab, 'chat:message');
      const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'over http', clientId: 'h-1' } });
      expect(r.status).toBe(201);
      expect(r.body.message).toMatchObject({ fromUserId: alice.id, toUserId: bob.id, content: 'over http', clientId: 'h-1' });
      expect(await toBob).toEqual({ message: r.body.message });
      expect(await toAlice).toEqual({ message: r.body.message });
    });

    it('stores the message so both sides read it in their history', async () => {
      const [alice, bob] = await friendPair(s);
      const ack = await sendOverSocket(await s.connect(alice), bob.id, 'kept');
      for (const [me, peer] of [
        [alice, bob],
        [bob, alice],
      ] as const) {
        const h = await s.request('GET', `/api/messages/${peer.id}`, { token: me.token });
        expect(h.body.messages).toEqual([ack.message]);
      }
    });
  });

  describe('idempotent resend of a clientId', () => {
    it('answers a socket resend with the same message and pushes it only once', async () => {
      const [alice, bob] = await friendPair(s);
      const aliceTab = await s.connect(alice);
      const aliceOther = await s.connect(alice);
      const bobTab = await s.connect(bob);
      const bobGot = collect(bobTab, 'chat:message');
      const otherGot = collect(aliceOther, 'chat:message');

      const clientId = randomUUID();
      const first = await sendOverSocket(aliceTab, bob.id, 'once', clientId);
      const again = await sendOverSocket(aliceTab, bob.id, 'once', clientId);
      expect(first.ok).toBe(true);
      expect(again).toEqual(first);

      // A later distinct message proves that anything pushed for the resend would have arrived.
      const marker = await sendOverSocket(aliceTab, bob.id, 'marker');
      await waitUntil(() => [bobGot, otherGot].every((got) => got.some((p) => p.message.id === marker.message.id)));
      await quietPeriod();
      expect(bobGot.map((p) => p.message.id)).toEqual([first.message.id, marker.message.id]);
      expect(otherGot.map((p) => p.message.id)).toEqual([first.message.id, marker.message.id]);
      const h = await s.request('GET', `/api/messages/${bob.id}`, { token: alice.token });
      expect(h.body.messages.map((m: { id: string }) => m.id)).toEqual([first.message.id, marker.message.id]);
    });

    it('answers an HTTP resend with the same message, also when the socket sent it first', async () => {
      const [alice, bob] = await friendPair(s);
      const ack = await sendOverSocket(await s.connect(alice), bob.id, 'from the socket', 'shared-id');
      const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'from the socket', clientId: 'shared-id' } });
      expect(r.status).toBe(201);
      expect(r.body.message).toEqual(ack.message);
    });

    it('answers two racing sends of one clientId with one message, delivered once', async () => {
      const [alice, bob] = await friendPair(s);
      const aliceTab = await s.connect(alice);
      const bobTab = await s.connect(bob);
      const bobGot = collect(bobTab, 'chat:message');
      const clientId = randomUUID();
      const acks = await Promise.all([
        sendOverSocket(aliceTab, bob.id, 'race', clientId),
        sendOverSocket(aliceTab, bob.id, 'race', clientId),
        sendOverHttp(s, alice, bob.id, 'race', clientId).then((message) => ({ ok: true, message })),
      ]);
      expect(acks.every((a) => a.ok)).toBe(true);
      expect(new Set(acks.map((a) => a.message.id)).size).toBe(1);
      const marker = await sendOverSocket(aliceTab, bob.id, 'marker');
      await waitUntil(() => bobGot.some((p) => p.message.id === marker.message.id));
      await quietPeriod();
      expect(bobGot.map((p) => p.message.id)).toEqual([acks[0]!.message.id, marker.message.id]);
    });

    it('does not let one user’s clientId collide with another user’s', async () => {
      const [alice, bob] = await friendPair(s);
      const a = await sendOverHttp(s, alice, bob.id, 'mine', 'same-local-id');
      const b = await sendOverHttp(s, bob, alice.id, 'mine too', 'same-local-id');
      expect(b.id).not.toBe(a.id);
      expect(b.fromUserId).toBe(bob.id);
    });

    it('refuses a clientId already used for another conversation with 409 CONFLICT', async () => {
      const [alice, bob] = await friendPair(s);
      const carol = await s.register();
      await s.makeFriends(alice, carol);
      await sendOverHttp(s, alice, bob.id, 'to bob', 'reused');
      const r = await s.request('POST', `/api/messages/${carol.id}`, { token: alice.token, body: { content: 'to carol', clientId: 'reused' } });
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('CONFLICT');
    });
  });

  describe('content', () => {
    it.each([
      ['empty', ''],
      ['only whitespace', '   \n\t '],
      ['over 2000 characters', 'x'.repeat(2001)],
    ])('refuses %s content with 400 VALIDATION', async (_name, content) => {
      const [alice, bob] = await friendPair(s);
      const r = await s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content } });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION');
    });

    it('accepts exactly 2000 characters after trimming', async () => {
      const [alice, bob] = await friendPair(s);
      const m = await sendOverHttp(s, alice, bob.id, `  ${'y'.repeat(2000)}  `);
      expect(m.content).toBe('y'.repeat(2000));
    });
  });
});

describe.each(dbTargets())('the chat rate limit on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target, config: { chatRateLimit: 5 } });
  });
  afterAll(async () => s.close());

  it('lets 5 of a burst of 8 through, answers RATE_LIMITED to the rest and refills after a second', async () => {
    const [alice, bob] = await friendPair(s);
    const tab = await s.connect(alice);
    const bobTab = await s.connect(bob);
    const bobGot = collect(bobTab, 'chat:message');

    const acks = await Promise.all(Array.from({ length: 8 }, (_, i) => sendOverSocket(tab, bob.id, `burst ${i}`)));
    const ok = acks.filter((a) => a.ok);
    expect(ok).toHaveLength(5);
    expect(acks.filter((a) => !a.ok).map((a) => a.error)).toEqual(
      Array.from({ length: 3 }, () => ({ code: 'RATE_LIMITED', message: expect.any(String) })),
    );
    // The refused sends were not stored: only the 5 are in the history.
    const h = await s.request('GET', `/api/messages/${bob.id}`, { token: alice.token });
    expect(h.body.messages.map((m: { id: string }) => m.id).sort()).toEqual(ok.map((a) => a.message.id).sort());

    // A resend of a stored clientId is answered from storage even with an empty bucket.
    const stored = ok[0]!.message;
    expect(await sendOverSocket(tab, bob.id, stored.content, stored.clientId!)).toEqual({ ok: true, message: stored });

    await sleep(1100);
    // Full again. Resending the five stored messages takes no token, so 5 new ones still pass.
    const resends = await Promise.all(ok.map((a) => sendOverSocket(tab, bob.id, a.message.content, a.message.clientId!)));
    expect(resends).toEqual(ok);
    const second = await Promise.all(Array.from({ length: 6 }, (_, i) => sendOverSocket(tab, bob.id, `after a second ${i}`)));
    expect(second.filter((a) => a.ok)).toHaveLength(5);
    expect(second.filter((a) => !a.ok).map((a) => a.error.code)).toEqual(['RATE_LIMITED']);

    // Bob saw each stored message exactly once: 5 + 5, never a resend.
    await waitUntil(() => bobGot.length >= 10);
    await quietPeriod();
    expect(bobGot.map((p) => p.message.id).sort()).toEqual([...ok, ...second.filter((a) => a.ok)].map((a) => a.message.id).sort());
  });

  it('keeps one user’s bucket apart from another’s', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const bobTab = await s.connect(bob);
    const acks = await Promise.all(Array.from({ length: 6 }, (_, i) => sendOverSocket(aliceTab, bob.id, `a${i}`)));
    expect(acks.filter((a) => a.ok)).toHaveLength(5);
    const fromBob = await emitAck(bobTab, 'chat:send', { to: alice.id, content: 'my own bucket', clientId: randomUUID() });
    expect(fromBob.ok).toBe(true);
  });

  it('does not charge a send that fails validation or the friend check', async () => {
    const alice = await s.register();
    const bob = await s.register();
    const stranger = await s.register();
    await s.makeFriends(alice, bob);
    const tab = await s.connect(alice);
    for (let i = 0; i < 6; i++) {
      expect((await emitAck(tab, 'chat:send', { to: bob.id, content: '   ', clientId: randomUUID() })).error.code).toBe('VALIDATION');
      expect((await sendOverSocket(tab, stranger.id, 'hi')).error.code).toBe('NOT_FRIENDS');
    }
    const acks = await Promise.all(Array.from({ length: 5 }, (_, i) => sendOverSocket(tab, bob.id, `ok ${i}`)));
    expect(acks.every((a) => a.ok)).toBe(true);
  });
});

describe.each(dbTargets())('a chat rate limit of 1 per second on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target, config: { chatRateLimit: 1 } });
  });
  afterAll(async () => s.close());

  it('shares one bucket between a user’s tabs and HTTP', async () => {
    const [alice, bob] = await friendPair(s);
    const tab1 = await s.connect(alice);
    const tab2 = await s.connect(alice);
    const [one, two, http] = await Promise.all([
      sendOverSocket(tab1, bob.id, 'from one tab'),
      sendOverSocket(tab2, bob.id, 'from the other tab'),
      s.request('POST', `/api/messages/${bob.id}`, { token: alice.token, body: { content: 'over http' } }),
    ]);
    // One token for the three of them, whichever came first.
    const outcomes = [one.ok ? 'ok' : one.error.code, two.ok ? 'ok' : two.error.code, http.status === 201 ? 'ok' : http.body.error.code];
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(2);
    if (http.status !== 201) expect(http.status).toBe(429);
  });

  it('takes no token for a resend: after a refill, a resend and then a new message both pass', async () => {
    const [alice, bob] = await friendPair(s);
    const tab = await s.connect(alice);
    const first = await sendOverSocket(tab, bob.id, 'first');
    expect(first.ok).toBe(true);
    await sleep(1100);
    expect(await sendOverSocket(tab, bob.id, 'first', first.message.clientId!)).toEqual(first);
    expect((await sendOverSocket(tab, bob.id, 'second')).ok).toBe(true);
  });
});
