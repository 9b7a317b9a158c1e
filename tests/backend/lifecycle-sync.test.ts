// Sync carries changes (DESIGN.md, "Message lifecycle"): a client that was away while messages
// were delivered, edited, recalled, reacted to and read, and new ones arrived, syncs from its old
// cursor and ends with exactly what a client that stayed online built from the live events.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { excerptOf } from '../../backend/src/chat/lifecycle.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { emitAck, waitFor } from '../helpers/wait.ts';
import { friendPair, sendOverSocket } from '../helpers/chat.ts';
import { createGroup, usersWithFriend } from '../helpers/groups.ts';

type SyncPage = { messages: WireMessage[]; nextCursor: string; hasMore: boolean };

/** What a client keeps: every message by id, updated as docs/protocol.md tells a client to. */
class ClientView {
  readonly messages = new Map<string, WireMessage>();
  constructor(readonly me: string) {}

  /** A message as the server hands it out (send ack, chat:message, sync): its latest state. */
  put(m: WireMessage): void {
    this.messages.set(m.id, structuredClone(m));
  }

  private repliesTo(id: string, change: (r: NonNullable<WireMessage['replyTo']>) => void): void {
    for (const m of this.messages.values()) if (m.replyTo?.id === id) change(m.replyTo);
  }

  /** Applies the live events, as a client that stays online does. */
  follow(socket: ClientSocket): void {
    socket.on('chat:message', ({ message }) => this.put(message));
    socket.on('chat:edited', ({ message }) => {
      const mine = this.messages.get(message.id);
      this.put({ ...message, reactions: mine ? mine.reactions : message.reactions } as WireMessage);
      this.repliesTo(message.id, (r) => (r.excerpt = excerptOf(message.content)));
    });
    socket.on('chat:deleted', (p) => {
      const m = this.messages.get(p.messageId);
      if (m) Object.assign(m, { deletedAt: p.deletedAt, content: '', attachment: null, location: null, replyTo: null, reactions: [] });
      this.repliesTo(p.messageId, (r) => Object.assign(r, { recalled: true, excerpt: null }));
    });
    socket.on('chat:delivered', (p) => this.delivered(p));
    socket.on('chat:read', ({ by, peerId, readAt }) => {
      for (const m of this.messages.values()) {
        if (m.fromUserId === peerId && m.toUserId === by && !m.isRead && m.deletedAt === null) Object.assign(m, { isRead: true, readAt });
      }
    });
    socket.on('chat:reaction', ({ messageId, emoji, userId, on }) => {
      const m = this.messages.get(messageId);
      if (!m) return;
      const r = m.reactions.find((x) => x.emoji === emoji);
      if (on) {
        if (r) Object.assign(r, { count: r.count + 1, mine: r.mine || userId === this.me });
        else m.reactions.push({ emoji, count: 1, mine: userId === this.me });
      } else if (r) {
        Object.assign(r, { count: r.count - 1, mine: userId === this.me ? false : r.mine });
        if (r.count === 0) m.reactions = m.reactions.filter((x) => x !== r);
      }
    });
  }

  /** A receipt: pushed, or (what this tab acked) in its ack's answer, as the Vue client takes it. */
  delivered({ messageIds, deliveredAt }: { messageIds: string[]; deliveredAt: string | null }): void {
    for (const id of messageIds) {
      const m = this.messages.get(id);
      if (m && m.deliveredAt === null) m.deliveredAt = deliveredAt;
    }
  }

  /** Everything, in id order, for comparing two views field by field. */
  snapshot(): WireMessage[] {
    return [...this.messages.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }
}

describe.each(dbTargets())('sync carries changes on %s', (target) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer({ target });
  });
  afterAll(async () => s.close());

  async function syncAll(socket: ClientSocket, after: string | undefined, limit = 3) {
    const messages: WireMessage[] = [];
    let cursor = after;
    for (;;) {
      const page = (await emitAck(socket, 'chat:sync', { ...(cursor ? { after: cursor } : {}), limit })) as SyncPage & { ok: boolean };
      expect(page.ok).toBe(true);
      messages.push(...page.messages);
      cursor = page.nextCursor;
      if (!page.hasMore) return { messages, cursor: cursor! };
    }
  }

  /** Two tabs of `user` with the same starting view: one stays online, one goes away with its cursor. */
  async function twoDevices(user: TestUser) {
    const online = await s.connect(user);
    const away = await s.connect(user);
    const onlineView = new ClientView(user.id);
    const awayView = new ClientView(user.id);
    for (const m of (await syncAll(online, undefined)).messages) onlineView.put(m);
    const start = await syncAll(away, undefined);
    for (const m of start.messages) awayView.put(m);
    expect(awayView.snapshot()).toEqual(onlineView.snapshot());
    onlineView.follow(online);
    away.disconnect();
    return { online, onlineView, awayView, cursor: start.cursor };
  }

  /**
   * `socket` acknowledges `ids`, which it is the first to: the answer names them all, with when,
   * and its view takes them from there (no receipt is pushed to the acking socket).
   */
  async function ack(socket: ClientSocket, view: ClientView, ids: string[]) {
    const answer = (await emitAck(socket, 'chat:delivered', { messageIds: ids })) as { ok: boolean; messageIds: string[]; deliveredAt: string | null };
    expect(answer).toEqual({ ok: true, messageIds: expect.any(Array), deliveredAt: expect.any(String) });
    expect([...answer.messageIds].sort()).toEqual([...ids].sort());
    view.delivered(answer);
    return answer;
  }

  /** The away device comes back and syncs from its old cursor; each changed message comes once. */
  async function comeBack(user: TestUser, awayView: ClientView, cursor: string) {
    const back = await s.connect(user);
    const missed = await syncAll(back, cursor);
    const ids = missed.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of missed.messages) awayView.put(m);
    return { ids, back };
  }

  it('direct chat: delivered, edited, recalled, reacted to, read, a reply and a new message', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const m1 = (await sendOverSocket(aliceTab, bob.id, 'first')).message;
    const m2 = (await sendOverSocket(aliceTab, bob.id, 'to be recalled')).message;
    const m3 = (await sendOverSocket(aliceTab, bob.id, 'to be edited')).message;
    const b1 = (await s.request('POST', `/api/messages/${alice.id}`, { token: bob.token, body: { content: 'from bob' } })).body.message as WireMessage;

    const { online, onlineView, awayView, cursor } = await twoDevices(bob);
    const next = (event: string) => waitFor(online, event);

    // Delivered: the online device acknowledges what it got.
    await ack(online, onlineView, [m1.id, m2.id, m3.id]);
    let seen: Promise<unknown>;
    // A reply from bob (his own send: the ack is his copy).
    const reply = await emitAck(online, 'chat:send', { to: alice.id, content: 'answering', clientId: randomUUID(), replyToId: m3.id });
    expect(reply.ok).toBe(true);
    onlineView.put(reply.message);
    expect(reply.message.replyTo).toEqual({ id: m3.id, fromUserId: alice.id, kind: 'text', excerpt: 'to be edited', recalled: false });
    // Alice edits, recalls, reacts, reads.
    seen = next('chat:edited');
    expect((await s.request('PATCH', `/api/messages/${m3.id}`, { token: alice.token, body: { content: 'edited now' } })).status).toBe(200);
    await seen;
    seen = next('chat:deleted');
    expect((await s.request('DELETE', `/api/messages/${m2.id}`, { token: alice.token })).status).toBe(204);
    await seen;
    seen = next('chat:reaction');
    expect((await s.request('PUT', `/api/messages/${b1.id}/reactions/${encodeURIComponent('👍')}`, { token: alice.token })).status).toBe(200);
    await seen;
    seen = next('chat:reaction');
    expect((await emitAck(online, 'chat:react', { messageId: m1.id, emoji: '❤️', on: true })).ok).toBe(true);
    await seen;
    seen = next('chat:read');
    expect(await emitAck(aliceTab, 'chat:read', { peerId: bob.id })).toEqual({ ok: true, updated: 2 });
    await seen;
    // A new message arrives, and is acknowledged.
    seen = next('chat:message');
    const m4 = (await sendOverSocket(aliceTab, bob.id, 'while you were away')).message;
    await seen;
    await ack(online, onlineView, [m4.id]);

    const { ids } = await comeBack(bob, awayView, cursor);
    expect(ids.sort()).toEqual([m1.id, m2.id, m3.id, b1.id, reply.message.id, m4.id].sort());
    expect(awayView.snapshot()).toEqual(onlineView.snapshot());
    // And that is what the server holds: a fresh sync from the start gives the same.
    const fresh = new ClientView(bob.id);
    for (const m of (await syncAll(online, undefined)).messages) fresh.put(m);
    expect(fresh.snapshot()).toEqual(onlineView.snapshot());

    // Spot checks of what the views hold.
    const view = new Map(awayView.snapshot().map((m) => [m.id, m]));
    expect(view.get(m2.id)).toMatchObject({ content: '', deletedAt: expect.any(String), reactions: [] });
    expect(view.get(m3.id)).toMatchObject({ content: 'edited now', editedAt: expect.any(String), deliveredAt: expect.any(String) });
    expect(view.get(m1.id)!.reactions).toEqual([{ emoji: '❤️', count: 1, mine: true }]);
    expect(view.get(b1.id)).toMatchObject({ isRead: true, reactions: [{ emoji: '👍', count: 1, mine: false }] });
    expect(view.get(reply.message.id)!.replyTo).toMatchObject({ excerpt: 'edited now', recalled: false });
  });

  it('direct chat: receipts alone, before and after edits, reach both parties’ away tabs once, at any page size', async () => {
    const [alice, bob] = await friendPair(s);
    const aliceTab = await s.connect(alice);
    const sent: WireMessage[] = [];
    for (const text of ['a', 'b', 'c', 'd']) sent.push((await sendOverSocket(aliceTab, bob.id, text)).message);
    const A = await twoDevices(alice);
    const B = await twoDevices(bob);
    const both = (event: string) => Promise.all([waitFor(A.online, event), waitFor(B.online, event)]);
    const deliver = async (m: WireMessage) => {
      const seen = waitFor(A.online, 'chat:delivered');
      await ack(B.online, B.onlineView, [m.id]);
      await seen;
    };
    const edit = async (m: WireMessage, content: string) => {
      const seen = both('chat:edited');
      expect((await s.request('PATCH', `/api/messages/${m.id}`, { token: alice.token, body: { content } })).status).toBe(200);
      await seen;
    };
    await deliver(sent[0]!); // a receipt alone
    await edit(sent[1]!, 'b, edited');
    await deliver(sent[1]!); // a receipt after an edit
    await deliver(sent[2]!);
    await edit(sent[2]!, 'c, edited'); // an edit after a receipt
    const seen = both('chat:message');
    const e = (await sendOverSocket(aliceTab, bob.id, 'e')).message;
    await seen;
    await deliver(e); // a new message, then its receipt

    for (const [user, view] of [
      [alice, A],
      [bob, B],
    ] as const) {
      for (const limit of [1, 2, 100]) {
        const back = await s.connect(user);
        const missed = await syncAll(back, view.cursor, limit);
        back.disconnect();
        const ids = missed.messages.map((m) => m.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect([...ids].sort()).toEqual([sent[0]!.id, sent[1]!.id, sent[2]!.id, e.id].sort());
        const away = new ClientView(user.id);
        for (const m of view.awayView.snapshot()) away.put(m);
        for (const m of missed.messages) away.put(m);
        expect(away.snapshot()).toEqual(view.onlineView.snapshot());
      }
    }
    const view = new Map(A.onlineView.snapshot().map((m) => [m.id, m]));
    expect(view.get(sent[0]!.id)).toMatchObject({ content: 'a', deliveredAt: expect.any(String), editedAt: null });
    expect(view.get(sent[2]!.id)).toMatchObject({ content: 'c, edited', deliveredAt: expect.any(String) });
    expect(view.get(sent[3]!.id)).toMatchObject({ content: 'd', deliveredAt: null });
  });

  it('a first sync through a history delivered after it was sent (most of it from the receipts) reads bounded pages and gives each message once', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const aliceTab = await s.connect(alice!);
    const bobTab = await s.connect(bob!);
    const tick = () => new Promise((r) => setTimeout(r, 3));
    const sent: WireMessage[] = [];
    for (let i = 0; i < 20; i++) {
      sent.push((await emitAck(aliceTab, 'chat:send', { groupId: group.id, content: `g${i}`, clientId: randomUUID() })).message as WireMessage);
      await tick();
      sent.push((await sendOverSocket(aliceTab, bob!.id, `d${i}`)).message);
      await tick();
    }
    // Bob receives each (one receipt a time, no two at the same millisecond): each message's
    // latest change is its receipt now (a group message is read by moving a member's position, not
    // the message). Two are edited after; the last is not delivered.
    for (const m of sent) {
      await ack(bobTab, new ClientView(bob!.id), [m.id]);
      await tick();
    }
    for (const m of [sent[1]!, sent[2]!]) {
      expect((await s.request('PATCH', `/api/messages/${m.id}`, { token: alice!.token, body: { content: `${m.content}, edited` } })).status).toBe(200);
      await tick();
    }
    sent.push((await sendOverSocket(aliceTab, bob!.id, 'not delivered')).message);

    // Every sync statement, to count the rows each page read (EXPLAIN ANALYZE: the rows every
    // scan of "Message" and "Delivery" in its plan produced, index and primary-key lookups alike).
    const realSql = s.app.db.sql;
    const realPrepared = s.app.db.prepared;
    const statements: { text: string; params: unknown[] }[] = [];
    s.app.db.prepared = (async (text: string, params: unknown[] = []) => {
      if (text.includes(' AS scan')) statements.push({ text, params });
      return realPrepared(text, params);
    }) as typeof realPrepared;
    type PlanNode = { 'Relation Name'?: string; 'Actual Rows': number; 'Actual Loops': number; Plans?: PlanNode[] };
    const rowsRead = (n: PlanNode): number =>
      (n['Relation Name'] === 'Message' || n['Relation Name'] === 'Delivery' ? n['Actual Rows'] * n['Actual Loops'] : 0) + (n.Plans ?? []).reduce((a, c) => a + rowsRead(c), 0);
    try {
      for (const user of [alice!, bob!]) {
        const tab = await s.connect(user);
        const whole = await syncAll(tab, undefined, 100);
        for (const limit of [1, 4]) {
          statements.length = 0;
          const paged = await syncAll(tab, undefined, limit);
          const ids = paged.messages.map((m) => m.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect(ids.sort()).toEqual(whole.messages.map((m) => m.id).sort());
          expect(statements.length).toBeGreaterThan(ids.length / limit - 1);
          expect(new Set(paged.messages.map((m) => JSON.stringify(m)))).toEqual(new Set(whole.messages.map((m) => JSON.stringify(m))));
          // Six scans here (to me, from me, the group; their receipts), each at most a page, one
          // more and the next row (to see whether it ties), each row with its message or receipt
          // looked up: never the whole history (40 messages and their receipts).
          for (const st of statements) {
            const [plan] = await realSql<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${st.text}`, st.params);
            expect(rowsRead(plan!['QUERY PLAN'][0].Plan)).toBeLessThanOrEqual(2 * 6 * (limit + 2));
          }
        }
        const latest = new Map(whole.messages.map((m) => [m.id, m]));
        for (const m of sent.slice(0, -1)) expect(latest.get(m.id)?.deliveredAt, m.content).toEqual(expect.any(String));
        expect(latest.get(sent.at(-1)!.id)?.deliveredAt).toBeNull();
        expect(latest.get(sent[1]!.id)?.content).toBe('d0, edited');
        tab.disconnect();
      }
    } finally {
      s.app.db.prepared = realPrepared;
    }
  });

  it('groups: delivered, edited, recalled, reacted to, a reply and a new message', async () => {
    const [alice, bob, carol] = await usersWithFriend(s, 3);
    const group = await createGroup(s, alice!, [bob!, carol!]);
    const send = async (u: TestUser, content: string, replyToId?: string) => {
      const r = await s.request('POST', `/api/groups/${group.id}/messages`, { token: u.token, body: { content, clientId: randomUUID(), ...(replyToId ? { replyToId } : {}) } });
      expect(r.status).toBe(201);
      return r.body.message as WireMessage;
    };
    const g1 = await send(alice!, 'hello group');
    const g2 = await send(alice!, 'oops');
    const g3 = await send(carol!, 'typo here');

    const { online, onlineView, awayView, cursor } = await twoDevices(bob!);
    const next = (event: string) => waitFor(online, event);

    await ack(online, onlineView, [g1.id, g2.id, g3.id]);
    let seen = next('chat:edited');
    expect((await s.request('PATCH', `/api/messages/${g3.id}`, { token: carol!.token, body: { content: 'no typo' } })).status).toBe(200);
    await seen;
    seen = next('chat:deleted');
    expect((await s.request('DELETE', `/api/messages/${g2.id}`, { token: alice!.token })).status).toBe(204);
    await seen;
    seen = next('chat:reaction');
    expect((await s.request('PUT', `/api/messages/${g1.id}/reactions/${encodeURIComponent('🎉')}`, { token: carol!.token })).status).toBe(200);
    await seen;
    seen = next('chat:reaction');
    expect((await emitAck(online, 'chat:react', { messageId: g1.id, emoji: '🎉', on: true })).ok).toBe(true);
    await seen;
    seen = next('chat:message');
    const g4 = await send(carol!, 'replying', g3.id);
    await seen;
    // Reading moves bob's position, not the messages (read by N comes from the members' positions).
    const read = next('group:read');
    expect((await s.request('POST', `/api/groups/${group.id}/read`, { token: alice!.token })).status).toBe(200);
    await read;

    const { ids } = await comeBack(bob!, awayView, cursor);
    expect(ids.sort()).toEqual([g1.id, g2.id, g3.id, g4.id].sort());
    expect(awayView.snapshot()).toEqual(onlineView.snapshot());
    const view = new Map(awayView.snapshot().map((m) => [m.id, m]));
    expect(view.get(g1.id)!.reactions).toEqual([{ emoji: '🎉', count: 2, mine: true }]);
    expect(view.get(g4.id)!.replyTo).toEqual({ id: g3.id, fromUserId: carol!.id, kind: 'text', excerpt: 'no typo', recalled: false });

    // Read by N: the members' read positions.
    const details = await s.request('GET', `/api/groups/${group.id}`, { token: bob!.token });
    const readers = details.body.members.filter((m: { user: { id: string }; readAt: string }) => m.user.id !== carol!.id && m.readAt >= g4.createdAt);
    expect(readers.map((m: { user: { id: string } }) => m.user.id)).toEqual([alice!.id]);
  });
});
