// Issue 14, message search (DESIGN.md, "Message lifecycle" → Search; backend/src/chat/search.ts):
// GET /api/messages/search finds the caller's direct messages and the messages of their current
// groups by text, caption or file name, English case-insensitively and Chinese inside a sentence,
// with highlights in UTF-16 code units, pages without duplicates or gaps, filters, and nothing the
// caller cannot read. Both plans are exercised: queries of three letters or more go through the
// trigram index first (pg_trgm is loaded on both targets), shorter ones read the caller's own messages.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { friendPair, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';
import { upload } from '../helpers/uploads.ts';
import { createFriendChat } from '../../backend/src/server.ts';
import { createSearchService } from '../../backend/src/chat/search.ts';
import type { WireMessage } from '../../backend/src/realtime/events.ts';

interface Result {
  message: WireMessage;
  highlights: [number, number][];
}

describe.each(dbTargets())('message search on %s', (target) => {
  let s: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, eve: TestUser;
  let groupId: string, leftGroupId: string, otherGroupId: string;
  const ids: Record<string, string> = {};

  const search = (u: TestUser, query: Record<string, string | number>) =>
    s.request('GET', `/api/messages/search?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`, { token: u.token });
  const found = async (u: TestUser, query: Record<string, string | number>): Promise<Result[]> => {
    const r = await search(u, query);
    expect(r.status).toBe(200);
    return r.body.results;
  };
  const foundIds = async (u: TestUser, query: Record<string, string | number>) => (await found(u, query)).map((r) => r.message.id);

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob, carol] = (await usersWithFriend(s, 3)) as [TestUser, TestUser, TestUser];
    [dave, eve] = await friendPair(s);
    await s.makeFriends(bob!, carol!);
    const send = async (key: string, from: TestUser, to: TestUser, content: string) => (ids[key] = (await sendOverHttp(s, from, to.id, content)).id);
    await send('noon', alice!, bob!, 'Meeting at NOON tomorrow');
    await send('hotpot', bob!, alice!, '我们明天去吃火锅吧');
    await send('emoji', alice!, bob!, '😀👍 hello world, HELLO again');
    await send('wild', bob!, alice!, `50% off_now \\ back.*slash it's`);
    await send('carol', carol!, alice!, 'another meeting with carol');
    await send('others', dave!, eve!, 'secret meeting of others 火锅');
    await send('recalled', alice!, bob!, 'meeting recalled 火锅');
    expect((await s.request('DELETE', `/api/messages/${ids.recalled}`, { token: alice!.token })).status).toBe(204);
    // A group of alice, bob and carol; one alice left (before and after leaving); one she never joined.
    groupId = (await createGroup(s, alice!, [bob!, carol!], { name: 'Trip' })).id;
    ids.group = (await sendToGroup(s, carol!, groupId, 'group meeting notes 火锅')).id;
    leftGroupId = (await createGroup(s, bob!, [alice!, carol!])).id;
    ids.leftBefore = (await sendToGroup(s, bob!, leftGroupId, 'meeting before alice left')).id;
    expect((await s.request('DELETE', `/api/groups/${leftGroupId}/members/${alice!.id}`, { token: alice!.token })).status).toBe(204);
    ids.leftAfter = (await sendToGroup(s, bob!, leftGroupId, 'meeting after alice left')).id;
    otherGroupId = (await createGroup(s, dave!, [eve!])).id;
    await sendToGroup(s, dave!, otherGroupId, 'meeting elsewhere 火锅');
    // A file with a caption: found by its caption and by its name.
    const up = await upload(s.url, alice!.token, Buffer.from('%PDF-1.4 quarterly figures\n'), { name: 'Quarterly-Report.pdf' });
    expect(up.status).toBe(201);
    const r = await s.request('POST', `/api/messages/${bob!.id}`, { token: alice!.token, body: { content: 'see attached', attachmentId: up.body.attachment.id } });
    expect(r.status).toBe(201);
    ids.file = r.body.message.id;
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('finds English case-insensitively, newest first, in direct chats and current groups only', async () => {
    const results = await found(alice!, { q: 'MEETING' });
    expect(results.map((r) => r.message.id)).toEqual([ids.group, ids.carol, ids.noon]);
    expect(results[2]!.highlights).toEqual([[0, 7]]);
    expect(results[1]!.highlights).toEqual([[8, 15]]);
    // Two letters: the plan that reads alice's own messages gives the same answer.
    expect(await foundIds(alice!, { q: 'eT' })).toEqual([ids.group, ids.carol, ids.noon]);
  });

  it('finds two Chinese characters inside a sentence, with their offsets', async () => {
    const results = await found(alice!, { q: '火锅' });
    expect(results.map((r) => r.message.id)).toEqual([ids.group, ids.hotpot]);
    expect(results[1]!.highlights).toEqual([[6, 8]]);
    expect(results[1]!.message.content.slice(6, 8)).toBe('火锅');
    expect(await foundIds(bob!, { q: '明天去吃' })).toEqual([ids.hotpot]);
  });

  it('counts highlight offsets in UTF-16 code units after emoji, every occurrence', async () => {
    const [r] = await found(bob!, { q: 'hello' });
    expect(r!.message.id).toBe(ids.emoji);
    // 😀 and 👍 are two code units each.
    expect(r!.highlights).toEqual([
      [5, 10],
      [18, 23],
    ]);
    expect(r!.highlights.map(([a, b]) => r!.message.content.slice(a, b))).toEqual(['hello', 'HELLO']);
  });

  it('finds captions and file names (a name-only match has no highlight in the text)', async () => {
    const byName = await found(alice!, { q: 'quarterly-report' });
    expect(byName.map((r) => [r.message.id, r.message.kind, r.message.attachment?.name, r.highlights])).toEqual([[ids.file, 'file', 'Quarterly-Report.pdf', []]]);
    const byCaption = await found(bob!, { q: 'attached' });
    expect(byCaption.map((r) => [r.message.id, r.highlights])).toEqual([[ids.file, [[4, 12]]]]);
    expect(await foundIds(bob!, { q: 'pdf' })).toEqual([ids.file]);
  });

  it('matches SQL, LIKE and regex wildcards literally', async () => {
    for (const q of ['%', '_', '\\', '.*', "'", '% off_', "it's"]) expect(await foundIds(alice!, { q }), q).toEqual([ids.wild]);
    expect(await foundIds(alice!, { q: '%%' })).toEqual([]);
    expect(await foundIds(alice!, { q: 'a_b' })).toEqual([]);
    expect(await foundIds(alice!, { q: '(' })).toEqual([]);
    expect((await found(alice!, { q: '.*' }))[0]!.highlights).toEqual([[18, 20]]);
  });

  it('never returns another pair, a group left or never joined, or a recalled message', async () => {
    const everything = [...(await foundIds(alice!, { q: 'meeting' })), ...(await foundIds(alice!, { q: '火锅' })), ...(await foundIds(alice!, { q: 'in' }))];
    for (const key of ['others', 'recalled', 'leftBefore', 'leftAfter']) expect(everything).not.toContain(ids[key]);
    expect(await foundIds(alice!, { q: 'elsewhere' })).toEqual([]);
    expect(await foundIds(alice!, { q: 'left' })).toEqual([]);
    // Bob, still a member of the group alice left, finds its messages; dave and eve only theirs.
    expect(await foundIds(bob!, { q: 'alice left' })).toEqual([ids.leftAfter, ids.leftBefore]);
    expect(await foundIds(eve!, { q: 'meeting' })).toEqual([expect.any(String), ids.others]);
  });

  it('a member finds the group history from before they joined, as group history shows it', async () => {
    const [owner, early, late] = await usersWithFriend(s, 3);
    const g = (await createGroup(s, owner!, [early!])).id;
    const before = await sendToGroup(s, early!, g, 'said before the newcomer came');
    expect((await s.request('POST', `/api/groups/${g}/members`, { token: owner!.token, body: { userIds: [late!.id] } })).status).toBe(200);
    expect(await foundIds(late!, { q: 'newcomer' })).toEqual([before.id]);
  });

  it('filters by peer, group and kind', async () => {
    expect(await foundIds(alice!, { q: 'meeting', peerId: bob!.id })).toEqual([ids.noon]);
    expect(await foundIds(alice!, { q: 'meeting', peerId: carol!.id })).toEqual([ids.carol]);
    expect(await foundIds(alice!, { q: 'meeting', groupId })).toEqual([ids.group]);
    expect(await foundIds(alice!, { q: '火锅', groupId })).toEqual([ids.group]);
    expect(await foundIds(alice!, { q: 'e', kind: 'file' })).toEqual([ids.file]);
    expect(await foundIds(alice!, { q: 'meeting', kind: 'image' })).toEqual([]);
    expect(await foundIds(alice!, { q: 'meeting', peerId: dave!.id })).toEqual([]);
    // A group alice left or never joined: NOT_MEMBER; one that does not exist: 404.
    for (const g of [leftGroupId, otherGroupId]) expect((await search(alice!, { q: 'meeting', groupId: g })).body.error.code).toBe('NOT_MEMBER');
    expect((await search(alice!, { q: 'meeting', groupId: '00000000-0000-4000-8000-000000000001' })).status).toBe(404);
  });

  it.each([
    ['three letters or more (index first)', 'page item'],
    ['two characters (the caller’s messages)', 'it'],
  ])('pages with nextCursor without duplicates or gaps: %s', async (_label, q) => {
    const [a, b] = await friendPair(s);
    const sent: string[] = [];
    for (let i = 0; i < 25; i++) sent.push((await sendOverHttp(s, i % 2 ? a : b, i % 2 ? b.id : a.id, `page item ${i}`)).id);
    const seen: string[] = [];
    let before: string | null = null;
    let pages = 0;
    do {
      const r = await search(a, { q, limit: 10, ...(before ? { before } : {}) });
      expect(r.status).toBe(200);
      seen.push(...r.body.results.map((x: Result) => x.message.id));
      before = r.body.nextCursor;
      pages++;
    } while (before && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(25);
    expect([...seen].sort()).toEqual([...sent].sort());
    // Newest first across the pages: the order of the full list, page after page.
    const all = await foundIds(a, { q, limit: 50 });
    expect(seen).toEqual(all);
    // Every plan gives the same pages: a small budget for the first read of the caller's
    // messages (it stops short of a sure page), and the index-first plan giving way when the
    // table holds more matches than it reads.
    const { db, services } = s.app.chat.internals;
    for (const options of [{ callerBudget: 4 }, { callerBudget: 4, indexFirstCap: 3 }, { callerBudget: 30 }]) {
      const service = createSearchService(db, services.attachments.present, options);
      const pages: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await service.search(a.id, { q, limit: 10, before: cursor });
        pages.push(...page.results.map((r) => r.message.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(pages, JSON.stringify(options)).toEqual(all);
    }
  });

  it('answers 400 VALIDATION to bad input', async () => {
    const bad: Record<string, string | number>[] = [
      {},
      { q: '' },
      { q: '   ' },
      { q: 'x'.repeat(101) },
      { q: ` ${'字'.repeat(101)} ` },
      { q: 'a\u0000b' },
      { q: 'meeting', before: 'not-a-cursor' },
      { q: 'meeting', before: Buffer.from('99999999999999999:00000000-0000-4000-8000-000000000001').toString('base64url') },
      { q: 'meeting', before: 'x'.repeat(5000) },
      { q: 'meeting', groupId: 'not-a-uuid' },
      { q: 'meeting', peerId: 'x'.repeat(65) },
      { q: 'meeting', peerId: bob!.id, groupId },
      { q: 'meeting', kind: 'video' },
      { q: 'meeting', limit: 0 },
      { q: 'meeting', limit: 51 },
      { q: 'meeting', limit: 'ten' },
      { q: 'meeting', limit: 2.5 },
    ];
    for (const query of bad) {
      const r = await search(alice!, query);
      expect({ query, status: r.status, code: r.body?.error?.code }).toEqual({ query, status: 400, code: 'VALIDATION' });
    }
    // Repeated parameters are not a string either.
    expect((await s.request('GET', '/api/messages/search?q=a&q=b', { token: alice!.token })).status).toBe(400);
    // 100 characters after trimming are fine; so is the widest limit.
    expect((await search(alice!, { q: `  ${'m'.repeat(100)}  `, limit: 50 })).status).toBe(200);
    expect((await s.request('GET', '/api/messages/search?q=meeting')).status).toBe(401);
  });
});

describe('message search without pg_trgm (a host PGlite without the extension)', () => {
  it('migrates without the trigram index and still finds everything', async () => {
    const pglite = new PGlite();
    const users = ['u1', 'u2'].map((id) => ({ id, username: id, displayName: id, avatarUrl: null }));
    const chat = await createFriendChat({
      database: { pglite },
      identify: async (t) => t,
      users: { byIds: async (list) => users.filter((u) => list.includes(u.id)) },
      friends: { areFriends: async (a, b) => a !== b, friendIds: async (id) => users.filter((u) => u.id !== id).map((u) => u.id) },
      uploads: { dir: mkdtempSync(path.join(tmpdir(), 'fc-search-')) },
    });
    try {
      const { db, services } = chat.internals;
      expect(await db.sql(`SELECT indexname FROM pg_indexes WHERE indexname = 'Message_content_trgm_idx'`)).toEqual([]);
      const sent = await services.messages.send({ from: 'u1', to: 'u2', content: 'Long Meeting 会议很长', rateLimited: false });
      const page = await services.search.search('u2', { q: 'meeting', limit: 20 });
      expect(page.results.map((r) => [r.message.id, r.highlights])).toEqual([[sent.message.id, [[5, 12]]]]);
      expect((await services.search.search('u2', { q: '会议', limit: 20 })).results).toHaveLength(1);
    } finally {
      await chat.close();
      await pglite.close();
    }
  });
});
