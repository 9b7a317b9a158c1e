// The calls a host's own code makes on the module (no user's client in between): sending and
// reading as a user (bots, welcome messages, imports, the demo's seed), a notification per user
// in one go, and telling the module that the host deleted one of its users.
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { PGlite } from '@electric-sql/pglite';
import { Server } from 'socket.io';
import { io as ioClient } from 'socket.io-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFriendChat, type ChatUser, type ConversationEntry, type FriendChat, type UnreadCounts, type WireMessage } from 'friend-chat/server';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';
import type { ClientSocket } from '../helpers/server.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';
import { quietPeriod, waitUntil } from '../helpers/chat.ts';

const user = (id: string, name: string): ChatUser => ({ id, username: name.toLowerCase(), displayName: name, avatarUrl: null });

describe.each(dbTargets())('a host’s own calls on the module on %s', (target) => {
  let tdb: TestDatabase;
  let pglite: PGlite | null = null;
  let chat: FriendChat;
  let http: HttpServer;
  let io: Server;
  let url: string;
  const sockets: ClientSocket[] = [];
  // The host's users and friendships, changed by the tests as a host's own code would.
  const users = new Map<string, ChatUser>();
  const friendships = new Set<string>();
  const befriend = (a: string, b: string) => friendships.add(`${a}:${b}`).add(`${b}:${a}`);
  let next = 100;
  /** A new user of the host's, friends with the others given. */
  function newUser(name: string, ...friends: string[]): string {
    const id = String(next++);
    users.set(id, user(id, name));
    for (const f of friends) befriend(id, f);
    return id;
  }
  /** The host deletes a user: its row and friendships go, then it tells the module. */
  function hostDeletes(id: string): void {
    users.delete(id);
    for (const f of [...friendships]) if (f.split(':').includes(id)) friendships.delete(f);
  }

  const rows = async (where: string, params: unknown[]) =>
    (await chat.internals.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM friendchat."Message" WHERE ${where}`, params))[0]!.n;
  const receipts = async (where: string, params: unknown[]) =>
    (await chat.internals.db.sql<{ n: number }>(`SELECT count(*)::int AS n FROM friendchat."Delivery" WHERE ${where}`, params))[0]!.n;

  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    if (!tdb.url) pglite = new PGlite();
    chat = await createFriendChat({
      database: tdb.url ? { url: tdb.url } : { pglite: pglite! },
      // The host's identify: a token names a user who still exists.
      identify: async (token) => (token.startsWith('tok-') && users.has(token.slice(4)) ? token.slice(4) : null),
      users: { byIds: async (ids) => ids.flatMap((id) => users.get(id) ?? []) },
      friends: {
        areFriends: async (a, b) => friendships.has(`${a}:${b}`),
        friendIds: async (id) => [...friendships].filter((f) => f.startsWith(`${id}:`)).map((f) => f.split(':')[1]!),
      },
      // One message a second: a user's second send in a row is refused, the host's are not.
      limits: { chatRatePerSecond: 1 },
    });
    const app = express();
    app.use('/api', chat.router);
    http = createServer(app);
    io = new Server(http);
    chat.attach(io);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await new Promise<void>((r) => io.close(() => r()));
    await chat.close();
    await pglite?.close();
    await tdb.drop();
  });
  beforeEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });

  function connect(userId: string): Promise<ClientSocket> {
    const socket: ClientSocket = ioClient(url, { auth: { token: `tok-${userId}` }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => reject(err));
    });
  }
  async function request(method: string, path: string, userId: string, body?: unknown) {
    const headers: Record<string, string> = { authorization: `Bearer tok-${userId}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  describe('send and markRead', () => {
    it('sends as a user: stored, pushed to both sides, in history, and not counted against the user’s rate limit', async () => {
      const bot = newUser('Bot');
      const ada = newUser('Ada', bot);
      const [adaTab, botTab] = [await connect(ada), await connect(bot)];
      const toAda = collect<{ message: WireMessage }>(adaTab, 'chat:message');
      const toBot = collect<{ message: WireMessage }>(botTab, 'chat:message');
      const sent = [];
      for (let i = 0; i < 4; i++) sent.push(await chat.send({ from: bot, to: ada, content: `  welcome ${i}  ` }));
      expect(sent.map((s) => s.created)).toEqual([true, true, true, true]);
      expect(sent[0]!.message).toMatchObject({ fromUserId: bot, toUserId: ada, content: 'welcome 0', messageType: 'CHAT' });
      await waitUntil(() => toAda.length === 4 && toBot.length === 4, 5000, 'the pushes');
      expect(toAda.map((p) => p.message)).toEqual(sent.map((s) => s.message));
      const history = await request('GET', `/api/messages/${bot}`, ada);
      expect(history.body.messages.map((m: WireMessage) => m.content)).toEqual(['welcome 0', 'welcome 1', 'welcome 2', 'welcome 3']);
      // Four sends in a row at one a second passed, and the bot's own bucket is still full: its
      // client's send passes too.
      expect((await request('POST', `/api/messages/${ada}`, bot, { content: 'from the bot’s client' })).status).toBe(201);
    });

    it('is idempotent on clientId: a resend answers the first message, created false, and pushes nothing', async () => {
      const a = newUser('Ann');
      const b = newUser('Ben', a);
      const tab = await connect(b);
      const pushed = collect<{ message: WireMessage }>(tab, 'chat:message');
      const first = await chat.send({ from: a, to: b, content: 'imported', clientId: 'import-1' });
      const again = await chat.send({ from: a, to: b, content: 'imported', clientId: 'import-1' });
      expect(again).toEqual({ message: first.message, created: false });
      await waitUntil(() => pushed.length === 1, 5000, 'the first push');
      await quietPeriod();
      expect(pushed).toHaveLength(1);
      await expect(chat.send({ from: a, to: newUser('Cal', a), content: 'x', clientId: 'import-1' })).rejects.toMatchObject({ code: 'CONFLICT' });
    });

    it('keeps the rules of a user’s send: friends only, known users, valid content and ids', async () => {
      const a = newUser('Dee');
      const stranger = newUser('Eve');
      const friend = newUser('Fay', a);
      const refusals: [Parameters<FriendChat['send']>[0], string][] = [
        [{ from: a, to: stranger, content: 'hi' }, 'NOT_FRIENDS'],
        [{ from: a, to: 'nobody', content: 'hi' }, 'NOT_FOUND'],
        [{ from: 'nobody', to: a, content: 'hi' }, 'NOT_FOUND'],
        [{ from: a, to: friend, content: '   ' }, 'VALIDATION'],
        [{ from: a, to: friend, content: 'x'.repeat(2001) }, 'VALIDATION'],
        [{ from: a, to: 'x'.repeat(65), content: 'hi' }, 'VALIDATION'],
        [{ from: a, to: a, content: 'hi' }, 'VALIDATION'],
        [{ from: a, to: friend, content: 'hi', extra: 1 } as never, 'VALIDATION'],
      ];
      for (const [input, code] of refusals) await expect(chat.send(input), JSON.stringify(input).slice(0, 80)).rejects.toMatchObject({ code });
      expect(await rows(`"fromUserId" = $1`, [a])).toBe(0);
    });

    it('marks read as the reader would: the sender gets the receipt, the reader’s count drops', async () => {
      const a = newUser('Gus');
      const b = newUser('Hal', a);
      await chat.send({ from: a, to: b, content: 'one' });
      await chat.send({ from: a, to: b, content: 'two' });
      const senderTab = await connect(a);
      const readerTab = await connect(b);
      const receipt = waitFor<{ by: string; peerId: string }>(senderTab, 'chat:read');
      const counted = waitFor<UnreadCounts>(readerTab, 'unread:update', 5000, (c) => c.total === 0);
      expect(await chat.markRead({ by: b, peerId: a })).toEqual({ updated: 2 });
      expect(await receipt).toMatchObject({ by: b, peerId: a });
      await counted;
      await expect(chat.markRead({ by: 'nobody', peerId: a })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(chat.markRead({ by: b, peerId: '' })).rejects.toMatchObject({ code: 'VALIDATION' });
    });
  });

  describe('notifyEach', () => {
    it('stores a draft per user in one go and pushes each to its user', async () => {
      const [a, b] = [newUser('Ida'), newUser('Jo')];
      const [aTab, bTab] = [await connect(a), await connect(b)];
      const toA = waitFor<{ message: WireMessage }>(aTab, 'notification:new');
      const toB = waitFor<{ message: WireMessage }>(bTab, 'notification:new');
      const stored = await chat.notifyEach([
        { userId: a, draft: { type: 'SYSTEM_LIKE', content: 'Jo liked your photo', metadata: { by: b } } },
        { userId: b, draft: { type: 'SYSTEM_TASK', metadata: { task: { id: 't1', title: 'Say hi' }, reward: 5 } } },
      ]);
      expect(stored.map((m) => [m.toUserId, m.messageType])).toEqual([
        [a, 'SYSTEM_LIKE'],
        [b, 'SYSTEM_TASK'],
      ]);
      expect((await toA).message).toEqual(stored[0]);
      expect((await toB).message).toEqual(stored[1]);
      expect(await chat.notifyEach([])).toEqual([]);
    });

    it('stores nothing when one user is unknown or one draft is bad', async () => {
      const a = newUser('Kim');
      await expect(
        chat.notifyEach([
          { userId: a, draft: { type: 'SYSTEM_LIKE', metadata: {} } },
          { userId: 'nobody', draft: { type: 'SYSTEM_LIKE', metadata: {} } },
        ]),
      ).rejects.toThrow(/unknown user/);
      await expect(
        chat.notifyEach([
          { userId: a, draft: { type: 'SYSTEM_LIKE', metadata: {} } },
          { userId: a, draft: { type: 'lowercase', metadata: {} } },
        ]),
      ).rejects.toThrow(/notification type/);
      expect(await rows(`"toUserId" = $1`, [a])).toBe(0);
    });
  });

  describe('userDeleted', () => {
    it('closes the user’s sockets, drops what is theirs, and leaves the other party the conversation under a placeholder', async () => {
      const ada = newUser('Ada Lovelace');
      const bo = newUser('Bo', ada);
      const hello = await chat.send({ from: ada, to: bo, content: 'hello Bo' });
      const hi = await chat.send({ from: bo, to: ada, content: 'hi Ada' });
      const recalled = await chat.send({ from: bo, to: ada, content: 'oops' });
      const boTab = await connect(bo);
      const adaTab = await connect(ada);
      // Delivered both ways, the recalled one too (before its recall).
      expect(await emitAck(boTab, 'chat:delivered', { messageIds: [hello.message.id] })).toMatchObject({ ok: true });
      expect(await emitAck(adaTab, 'chat:delivered', { messageIds: [hi.message.id, recalled.message.id] })).toMatchObject({ ok: true });
      expect((await request('DELETE', `/api/messages/${recalled.message.id}`, bo)).status).toBe(204);
      await chat.send({ from: bo, to: ada, content: 'last words' });
      await chat.notify(bo, { type: 'SYSTEM_LIKE', metadata: {} });
      const closed = waitFor<{ reason: string }>(boTab, 'session:closed');
      const gone = new Promise<string>((resolve) => boTab.once('disconnect', resolve));
      const recount = waitFor<UnreadCounts>(adaTab, 'unread:update', 5000, (c) => Object.keys(c.byPeer).some((k) => k.startsWith('deleted:')));

      hostDeletes(bo);
      await chat.userDeleted(bo);

      expect(await closed).toEqual({ reason: 'user_deleted' });
      expect(await gone).toBe('io server disconnect');
      await expect(connect(bo)).rejects.toMatchObject({ message: 'unauthorized' });
      // Nothing in the module names the user any more: notifications, the recalled message and
      // lastSeenAt are gone, the rest carries the tombstone.
      expect(await rows(`"fromUserId" = $1 OR "toUserId" = $1`, [bo])).toBe(0);
      expect(await receipts(`"fromUserId" = $1 OR "toUserId" = $1`, [bo])).toBe(0);
      expect(await receipts(`"messageId" = $1`, [recalled.message.id])).toBe(0);
      const presence = await chat.internals.db.sql(`SELECT 1 FROM friendchat."UserPresence" WHERE "userId" = $1`, [bo]);
      expect(presence).toEqual([]);

      // Ada's side: the conversation with a placeholder, readable and markable, not writable.
      const { conversations } = (await request('GET', '/api/messages/conversations/list', ada)).body as { conversations: ConversationEntry[] };
      const entry = conversations.find((c) => c.peer.deleted);
      expect(entry).toMatchObject({ peer: { username: '', displayName: 'Deleted user', avatarUrl: null, deleted: true }, unread: 2 });
      expect(entry!.lastMessage).toMatchObject({ content: 'last words', toUserId: ada });
      const tomb = entry!.peer.id;
      expect(tomb).toMatch(/^deleted:[0-9a-f-]{36}$/);
      expect(entry!.lastMessage.fromUserId).toBe(tomb);
      expect((await recount).byPeer).toEqual({ [tomb]: 2 });
      const history = await request('GET', `/api/messages/${encodeURIComponent(tomb)}`, ada);
      expect(history.body.messages.map((m: WireMessage) => [m.fromUserId === ada ? 'ada' : m.fromUserId, m.content, m.deliveredAt !== null])).toEqual([
        ['ada', 'hello Bo', true],
        [tomb, 'hi Ada', true],
        [tomb, 'last words', false],
      ]);
      // The receipts moved with their messages: sync still finds them under the tombstone.
      expect(await receipts(`("fromUserId" = $1 AND "toUserId" = $2) OR ("fromUserId" = $2 AND "toUserId" = $1)`, [ada, tomb])).toBe(2);
      expect((await request('POST', `/api/messages/${encodeURIComponent(tomb)}/read`, ada)).body).toEqual({ updated: 2 });
      expect((await request('POST', `/api/messages/${encodeURIComponent(tomb)}`, ada, { content: 'still there?' })).status).toBe(404);
      expect((await emitAck(adaTab, 'chat:send', { to: bo, content: 'Bo?', clientId: randomUUID() })).error.code).toBe('NOT_FOUND');

      // A host that reuses the id gives the new user none of it.
      users.set(bo, user(bo, 'New Bo'));
      expect((await request('GET', '/api/messages/conversations/list', bo)).body.conversations).toEqual([]);
      expect((await request('GET', `/api/messages/${ada}`, bo)).body.messages).toEqual([]);
      expect((await request('GET', '/api/messages/system/list', bo)).body.messages).toEqual([]);
    });

    it('with messages: "delete", takes the conversations from both sides', async () => {
      const cy = newUser('Cy');
      const dee = newUser('Dee', cy);
      const forgotten = await chat.send({ from: cy, to: dee, content: 'to be forgotten' });
      await chat.send({ from: dee, to: cy, content: 'me too' });
      const deeTab = await connect(dee);
      expect(await emitAck(deeTab, 'chat:delivered', { messageIds: [forgotten.message.id] })).toMatchObject({ ok: true });
      deeTab.disconnect();
      expect(await receipts(`"messageId" = $1`, [forgotten.message.id])).toBe(1);
      hostDeletes(cy);
      await chat.userDeleted(cy, { messages: 'delete' });
      expect((await request('GET', '/api/messages/conversations/list', dee)).body.conversations).toEqual([]);
      expect((await request('GET', '/api/messages/unread/count', dee)).body).toMatchObject({ total: 0, byPeer: {}, byGroup: {}, system: 0 });
      expect(await rows(`"fromUserId" = $1 OR "toUserId" = $1`, [cy])).toBe(0);
      expect(await rows(`"fromUserId" LIKE 'deleted:%' AND "toUserId" = $1`, [dee])).toBe(0);
      expect(await receipts(`"fromUserId" = $1 OR "toUserId" = $1`, [cy])).toBe(0);
    });

    it('forgets a cached friendship at once, so no message reaches the deleted user', async () => {
      const eve = newUser('Eve');
      const fay = newUser('Fay', eve);
      // Eve's friend set is cached now (the send asked it).
      await chat.send({ from: eve, to: fay, content: 'hi' });
      // The host deletes Fay without telling the module about each ended friendship.
      hostDeletes(fay);
      await chat.userDeleted(fay);
      const eveTab = await connect(eve);
      const ack = await emitAck(eveTab, 'chat:send', { to: fay, content: 'are you there?', clientId: randomUUID() });
      expect(ack.error.code).toBe('NOT_FOUND');
      expect(await rows(`"toUserId" = $1`, [fay])).toBe(0);
    });

    it('takes the user out of their groups: ownership passes on, their mutes go, a reused id reads none of it', async () => {
      const gus = newUser('Gus');
      const hal = newUser('Hal', gus);
      const ivy = newUser('Ivy', gus);
      const created = await request('POST', '/api/groups', gus, { name: 'Climbers', memberIds: [hal, ivy] });
      expect(created.status).toBe(201);
      const groupId = created.body.group.id as string;
      expect((await request('POST', `/api/groups/${groupId}/messages`, gus, { content: 'rope at 9', clientId: randomUUID() })).status).toBe(201);
      expect((await request('PUT', `/api/mutes/group/${groupId}`, gus, {})).status).toBeLessThan(300);
      expect((await request('PUT', `/api/mutes/user/${gus}`, hal, {})).status).toBeLessThan(300);

      hostDeletes(gus);
      await chat.userDeleted(gus);

      const details = await request('GET', `/api/groups/${groupId}`, hal);
      expect(details.body.group).toMatchObject({ memberCount: 2, ownerId: hal });
      expect(details.body.members.map((m: { user: { id: string } }) => m.user.id).sort()).toEqual([hal, ivy].sort());
      const history = (await request('GET', `/api/groups/${groupId}/messages`, ivy)).body.messages as WireMessage[];
      expect(history.some((m) => m.content === 'rope at 9')).toBe(true);
      expect(history.some((m) => m.messageType === 'GROUP_EVENT' && (m.metadata as { event?: string }).event === 'left')).toBe(true);
      const left = await chat.internals.db.sql(`SELECT 1 FROM friendchat."GroupMember" WHERE "userId" = $1`, [gus]);
      expect(left).toEqual([]);
      const mutes = await chat.internals.db.sql(`SELECT 1 FROM friendchat."Mute" WHERE "userId" = $1 OR "targetId" = $1`, [gus]);
      expect(mutes).toEqual([]);

      // A host that reuses the id: the new user is no member, not even a former one.
      users.set(gus, user(gus, 'New Gus'));
      expect((await request('GET', '/api/groups', gus)).body.groups).toEqual([]);
      expect((await request('GET', `/api/groups/${groupId}/messages`, gus)).status).toBe(403);
    });

    it('refuses a bad user id or option with an error to the host', async () => {
      await expect(chat.userDeleted('x'.repeat(65))).rejects.toMatchObject({ code: 'VALIDATION' });
      await expect(chat.userDeleted('1', { messages: 'purge' as never })).rejects.toThrow(/keep' or 'delete/);
    });
  });
});
