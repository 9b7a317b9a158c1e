// Reactions (DESIGN.md, "Message lifecycle"): one of each emoji per user, at most 20 distinct
// emoji per message, `mine` as the receiver sees it, pushes to both sides.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { normalizeEmoji } from '../../backend/src/chat/reactions.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, quietPeriod, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';

const path = (id: string, emoji: string) => `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`;

describe('normalizeEmoji', () => {
  it('takes exactly one emoji (sequences, flags, keycaps, skin tones), in its fully qualified form', () => {
    for (const e of ['👍', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '❤️', '🏳️‍🌈']) expect(normalizeEmoji(e)).toBe(e);
    expect(normalizeEmoji('❤')).toBe('❤️');
    for (const bad of ['', 'a', ':)', '👍👍', '👍 ', ' 👍', '1', '<b>', 'x'.repeat(100)]) expect(normalizeEmoji(bad)).toBeNull();
  });
});

describe.each(dbTargets())('reactions on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  const react = (u: TestUser, id: string, emoji: string, on = true) => s.request(on ? 'PUT' : 'DELETE', path(id, emoji), { token: u.token });
  const history = async (me: TestUser, peer: TestUser) =>
    (await s.request('GET', `/api/messages/${peer.id}`, { token: me.token })).body.messages as WireMessage[];
  const reactionRows = (messageId: string) => s.app.db.prisma.reaction.count({ where: { messageId } });

  it('adds and takes back reactions: one of each emoji per user, pushes to both sides, mine as each sees it', async () => {
    const [alice, bob] = await friendPair(s);
    const [aliceTab, bobTab] = [await s.connect(alice), await s.connect(bob)];
    const m = await sendOverHttp(s, alice, bob.id, 'react to me');

    const pushes = [aliceTab, bobTab].map((t) => waitFor(t, 'chat:reaction'));
    const r = await react(bob, m.id, '👍');
    expect(r).toEqual({ status: 200, body: { reactions: [{ emoji: '👍', count: 1, mine: true }] } });
    for (const p of await Promise.all(pushes)) expect(p).toEqual({ messageId: m.id, emoji: '👍', userId: bob.id, on: true });

    // Again: nothing changes, nobody is told.
    const quiet = collect(aliceTab, 'chat:reaction');
    expect((await react(bob, m.id, '👍')).body.reactions).toEqual([{ emoji: '👍', count: 1, mine: true }]);
    await quietPeriod();
    expect(quiet).toEqual([]);

    expect((await react(alice, m.id, '👍')).body.reactions).toEqual([{ emoji: '👍', count: 2, mine: true }]);
    // Over the socket, an emoji typed without its presentation selector.
    expect(await emitAck(aliceTab, 'chat:react', { messageId: m.id, emoji: '❤', on: true })).toEqual({
      ok: true,
      reactions: [
        { emoji: '👍', count: 2, mine: true },
        { emoji: '❤️', count: 1, mine: true },
      ],
    });
    expect((await history(bob, alice)).find((x) => x.id === m.id)!.reactions).toEqual([
      { emoji: '👍', count: 2, mine: true },
      { emoji: '❤️', count: 1, mine: false },
    ]);
    expect((await react(alice, m.id, '❤️', false)).body.reactions).toEqual([{ emoji: '👍', count: 2, mine: true }]);
    expect((await react(bob, m.id, '👍', false)).body.reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
    expect((await history(alice, bob)).find((x) => x.id === m.id)!.reactions).toEqual([{ emoji: '👍', count: 1, mine: true }]);
  });

  it('refuses a non-emoji, a 21st distinct emoji, and messages one cannot read — storing nothing', async () => {
    const [alice, bob] = await friendPair(s);
    const carol = await s.register();
    const m = await sendOverHttp(s, alice, bob.id, 'twenty at most');
    for (const bad of ['a', 'thumbs', '👍👍', ':+1:']) {
      const r = await react(bob, m.id, bad);
      expect([r.status, r.body.error.code]).toEqual([400, 'VALIDATION']);
    }
    const socketBad = await emitAck(await s.connect(bob), 'chat:react', { messageId: m.id, emoji: 'no', on: true });
    expect(socketBad).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
    expect(await reactionRows(m.id)).toBe(0);

    const twenty = ['😀', '😁', '😂', '🤣', '😃', '😄', '😅', '😆', '😉', '😊', '😋', '😎', '😍', '😘', '🥰', '😗', '😙', '🥲', '😚', '🙂'];
    for (const [i, e] of twenty.entries()) expect((await react(i % 2 ? alice : bob, m.id, e)).status).toBe(200);
    const full = await react(bob, m.id, '🤗');
    expect([full.status, full.body.error.code]).toEqual([409, 'CONFLICT']);
    // An emoji already there still takes more users.
    expect((await react(alice, m.id, '😀')).status).toBe(200);
    expect(await reactionRows(m.id)).toBe(21);

    // A stranger, an unknown message, a recalled one: not found.
    expect((await react(carol, m.id, '👍')).status).toBe(404);
    expect((await react(bob, randomUUID(), '👍')).status).toBe(404);
    const recalled = await sendOverHttp(s, alice, bob.id, 'gone');
    expect((await s.request('DELETE', `/api/messages/${recalled.id}`, { token: alice.token })).status).toBe(204);
    expect((await react(bob, recalled.id, '👍')).status).toBe(404);
    // A notification takes no reactions.
    const system = (await s.request('GET', '/api/messages/system/list', { token: bob.token })).body.messages[0] as WireMessage;
    expect((await react(bob, system.id, '👍')).body.error.code).toBe('VALIDATION');
    expect(await reactionRows(recalled.id)).toBe(0);
  });

  it('in a group: members react and the members are told; a former member gets NOT_MEMBER, an outsider 404', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const outsider = await s.register();
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const carolTab = await s.connect(carol!);
    const m = await sendToGroup(s, alice!, group.id, 'group message');
    const pushed = waitFor(carolTab, 'chat:reaction');
    expect((await react(bob!, m.id, '🎉')).status).toBe(200);
    expect(await pushed).toEqual({ messageId: m.id, emoji: '🎉', userId: bob!.id, on: true });
    expect((await react(outsider, m.id, '🎉')).status).toBe(404);
    // Group history shows each message's reactions as the react answer does: in the order first
    // given, `mine` for whoever reads; a message without any shows none.
    expect((await react(carol!, m.id, '👍')).status).toBe(200);
    expect((await react(bob!, m.id, '👍')).status).toBe(200);
    const plain = await sendToGroup(s, alice!, group.id, 'nobody reacts');
    const timeline = async (u: TestUser) => {
      const r = await s.request('GET', `/api/groups/${group.id}/messages`, { token: u.token });
      expect(r.status).toBe(200);
      return new Map((r.body.messages as WireMessage[]).map((x) => [x.id, x.reactions]));
    };
    const seen = await timeline(alice!);
    expect(seen.get(m.id)).toEqual([
      { emoji: '🎉', count: 1, mine: false },
      { emoji: '👍', count: 2, mine: false },
    ]);
    expect(seen.get(plain.id)).toEqual([]);
    expect((await timeline(bob!)).get(m.id)).toEqual([
      { emoji: '🎉', count: 1, mine: true },
      { emoji: '👍', count: 2, mine: true },
    ]);
    expect((await s.request('DELETE', `/api/groups/${group.id}/members/${carol!.id}`, { token: carol!.token })).status).toBe(204);
    const r = await react(carol!, m.id, '🎉');
    expect([r.status, r.body.error.code]).toEqual([403, 'NOT_MEMBER']);
    expect(await reactionRows(m.id)).toBe(3);
    // A former member still reads the page up to leaving, with the reactions as they are now.
    expect((await timeline(carol!)).get(m.id)).toEqual([
      { emoji: '🎉', count: 1, mine: false },
      { emoji: '👍', count: 2, mine: true },
    ]);
  });
});
