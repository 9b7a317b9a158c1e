// Issue 14, message search: every read of backend/src/chat/search.ts gives the same answer, and
// each is taken where it should be (the service reports which read answered). The reads: my
// newest messages back to a common edge (`recent`), the trigram index (`trigram`), the bigram
// index of migration 20261222000000_search_bigrams for Chinese (`bigram`: two characters, rare
// or absent, inside mixed Chinese/Latin text), file names too common for the index looked for
// among my files (`files`), and all my messages (`all`). A group I left is never searched, by any
// of them, neither before nor after I left. On PGlite and PostgreSQL (pg_trgm loaded on both).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { friendPair, sendOverHttp } from '../helpers/chat.ts';
import { createGroup, sendToGroup, usersWithFriend } from '../helpers/groups.ts';
import { upload } from '../helpers/uploads.ts';
import { bigrams, createSearchService, type SearchInput, type SearchOptions } from '../../backend/src/chat/search.ts';

describe('bigrams (which queries the bigram index can answer)', () => {
  it('lists the neighbouring pairs of a query of uncased non-ASCII characters only', () => {
    expect(bigrams('熊猫')).toEqual(['熊猫']);
    expect(bigrams('不好意思')).toEqual(['不好', '好意', '意思']);
    expect(bigrams('哈哈哈')).toEqual(['哈哈']);
    expect(bigrams('😀👍')).toEqual(['😀👍']);
    for (const q of ['熊', '熊a猫', 'ab', '熊猫1', 'Éé', 'пр']) expect(bigrams(q), q).toBeNull();
  });
});

describe.each(dbTargets())('search plans on %s', (target) => {
  let s: TestServer;
  let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, eve: TestUser;
  let groupId: string;
  const ids: Record<string, string> = {};

  /** A service with the given options that records which read answered. */
  function service(options: SearchOptions = {}) {
    const { db, services } = s.app.chat.internals;
    const plans: string[] = [];
    const search = createSearchService(db, services.attachments.present, { ...options, onPlan: (p) => plans.push(p) });
    return {
      plans,
      async ids(u: TestUser, input: Partial<SearchInput> & { q: string }) {
        plans.length = 0;
        return (await search.search(u.id, { limit: 20, ...input })).results.map((r) => r.message.id);
      },
    };
  }

  const sendFile = async (from: TestUser, to: TestUser, name: string, content: string) => {
    const up = await upload(s.url, from.token, Buffer.from('plain text\n'), { name, type: 'text/plain' });
    expect(up.status).toBe(201);
    const r = await s.request('POST', `/api/messages/${to.id}`, { token: from.token, body: { content, attachmentId: up.body.attachment.id } });
    expect(r.status).toBe(201);
    return r.body.message.id as string;
  };

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob, carol] = (await usersWithFriend(s, 3)) as [TestUser, TestUser, TestUser];
    [dave, eve] = await friendPair(s);
    await s.makeFriends(bob!, carol!);
    const send = async (key: string, from: TestUser, to: TestUser, content: string) => (ids[key] = (await sendOverHttp(s, from, to.id, content)).id);
    await send('mixed', alice!, bob!, '我们meeting明天 ok熊猫');
    await send('split', bob!, alice!, '熊a猫 and 熊 猫 are apart');
    await send('others', dave!, eve!, '别人的熊猫 okapi');
    groupId = (await createGroup(s, alice!, [bob!, carol!])).id;
    ids.group = (await sendToGroup(s, carol!, groupId, '群里的熊猫')).id;
    // A group alice left: its messages from before and after she left are not hers to search.
    const left = (await createGroup(s, bob!, [alice!, carol!])).id;
    ids.leftBefore = (await sendToGroup(s, bob!, left, '离开前的熊猫 okapi')).id;
    expect((await s.request('DELETE', `/api/groups/${left}/members/${alice!.id}`, { token: alice!.token })).status).toBe(204);
    ids.leftAfter = (await sendToGroup(s, bob!, left, '离开后的熊猫 okapi')).id;
    // Files: names in Chinese and English, more of them in the table than a small cap.
    ids.file1 = await sendFile(alice!, bob!, '斑马-1.txt', 'file one');
    ids.file2 = await sendFile(bob!, alice!, 'zebra-2 斑马.txt', 'file two');
    await sendFile(dave!, eve!, 'zebra-3 斑马.txt', 'file three');
    ids.file4 = await sendFile(carol!, alice!, '熊猫照片.txt', 'file four');
  }, 120_000);
  afterAll(async () => {
    await s?.close();
  });

  it('the migration indexes the pairs of neighbouring non-ASCII characters', async () => {
    const { db } = s.app.chat.internals;
    const of = async (t: string) => (await db.sql<{ b: string[] | null }>(`SELECT ${db.table('cjk_bigrams')}($1) AS b`, [t]))[0]!.b;
    expect(await of('我们meeting明天去 吃😀👍é!')).toEqual(['我们', '明天', '天去', '吃😀', '😀👍', '👍é']);
    expect(await of('plain English')).toBeNull();
    expect(await of('熊 a')).toBeNull();
    const indexes = await db.sql<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND indexname LIKE '%bigram%' ORDER BY 1`, [db.schema]);
    expect(indexes.map((r) => r.indexname)).toEqual(['Attachment_name_bigram_idx', 'Message_content_bigram_idx']);
  });

  it('two Chinese characters, rare or absent: the bigram index answers, as all my messages would', async () => {
    // A budget of one message per source is never sure of a page: the next read answers.
    const small = service({ callerBudget: 1 });
    const all = service({ callerBudget: 1, indexFirstCap: 0 });
    const expected = [ids.file4, ids.group, ids.mixed];
    expect(await small.ids(alice!, { q: '熊猫' })).toEqual(expected);
    expect(small.plans).toEqual(['bigram']);
    // The same answer from all of alice's messages (the bigram read gives up at a cap of 0).
    expect(await all.ids(alice!, { q: '熊猫' })).toEqual(expected);
    expect(all.plans).toEqual(['all']);
    expect(await small.ids(alice!, { q: '嗯嗯' })).toEqual([]);
    expect(small.plans).toEqual(['bigram']);
    // Filters apply on this read as on the others.
    expect(await small.ids(alice!, { q: '熊猫', peerId: bob!.id })).toEqual([ids.mixed]);
    expect(await small.ids(alice!, { q: '熊猫', groupId })).toEqual([ids.group]);
    expect(await small.ids(alice!, { q: '熊猫', kind: 'file' })).toEqual([ids.file4]);
    expect(await small.ids(alice!, { q: '熊猫', limit: 2 })).toEqual(expected.slice(0, 2));
    expect(small.plans).toEqual(['bigram']);
    // The default service, whose first read is sure here (alice has few messages), agrees.
    const plain = service();
    expect(await plain.ids(alice!, { q: '熊猫' })).toEqual(expected);
    expect(plain.plans).toEqual(['recent']);
  });

  it('mixed Chinese and Latin text: pairs never span a Latin letter or a space', async () => {
    const small = service({ callerBudget: 1 });
    expect(await small.ids(alice!, { q: '明天' })).toEqual([ids.mixed]);
    expect(small.plans).toEqual(['bigram']);
    expect(await small.ids(alice!, { q: '们m' })).toEqual([ids.mixed]);
    expect(small.plans).toEqual(['all']);
    expect(await small.ids(alice!, { q: 'g明天' })).toEqual([ids.mixed]);
    expect(small.plans).toEqual(['trigram']);
    expect(await small.ids(alice!, { q: '熊a猫' })).toEqual([ids.split]);
    expect(await small.ids(alice!, { q: '熊 猫' })).toEqual([ids.split]);
    // "熊猫" is not in the message where a letter or a space parts them.
    expect(await small.ids(bob!, { q: '熊猫' })).not.toContain(ids.split);
  });

  it('a group I left is not searched, by any read, before or after I left', async () => {
    const left = [ids.leftBefore, ids.leftAfter];
    for (const options of [{}, { callerBudget: 1 }, { callerBudget: 1, indexFirstCap: 0 }, { callerBudget: 1, indexFirstCap: 1 }]) {
      const svc = service(options);
      for (const q of ['熊猫', '离开', '离开前的熊猫', 'okapi', 'zebra', '的熊']) {
        const found = await svc.ids(alice!, { q });
        for (const id of left) expect(found, `${q} ${JSON.stringify(options)}`).not.toContain(id);
      }
    }
    // Bob, still a member, finds both through the bigram index.
    const small = service({ callerBudget: 1 });
    expect(await small.ids(bob!, { q: '离开' })).toEqual([ids.leftAfter, ids.leftBefore]);
    expect(small.plans).toEqual(['bigram']);
  });

  it('file names matched by more files than the cap: looked for among my files', async () => {
    // Three files in the table are named zebra or 斑马; alice can read two of them.
    const capped = service({ callerBudget: 1, indexFirstCap: 1 });
    expect(await capped.ids(alice!, { q: 'zebra' })).toEqual([ids.file2]);
    expect(capped.plans).toEqual(['files', 'trigram']);
    expect(await capped.ids(alice!, { q: '斑马' })).toEqual([ids.file2, ids.file1]);
    expect(capped.plans).toEqual(['files', 'bigram']);
    expect(await capped.ids(alice!, { q: '斑马', peerId: bob!.id })).toEqual([ids.file2, ids.file1]);
    expect(await capped.ids(alice!, { q: '斑马', limit: 1 })).toEqual([ids.file2]);
    expect(await capped.ids(alice!, { q: '斑马', groupId })).toEqual([]);
    // Paging through the merged answer: the second page starts after the first.
    const { db, services } = s.app.chat.internals;
    const search = createSearchService(db, services.attachments.present, { callerBudget: 1, indexFirstCap: 1 });
    const first = await search.search(alice!.id, { q: '斑马', limit: 1 });
    expect(first.nextCursor).not.toBeNull();
    const second = await search.search(alice!.id, { q: '斑马', limit: 1, before: first.nextCursor! });
    expect(second.results.map((r) => r.message.id)).toEqual([ids.file1]);
    expect(second.nextCursor).toBeNull();
    // Uncapped, the index answers the same.
    const plain = service({ callerBudget: 1 });
    expect(await plain.ids(alice!, { q: '斑马' })).toEqual([ids.file2, ids.file1]);
    expect(plain.plans).toEqual(['bigram']);
  });
});
