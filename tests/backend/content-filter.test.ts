// The content filter (DESIGN.md, "Message lifecycle" → Content filter): the matcher on its own,
// then the demo app configured by CONTENT_FILTER_FILE / CONTENT_FILTER_MODE, masking or refusing
// listed words in messages (HTTP, socket, the module's `chat.send`), captions, location labels and
// group names. What is stored and pushed is already masked; a refusal stores nothing.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, createContentFilter, parseWordList, readWordList } from 'friend-chat/server';
import { toContentFilter } from '../../backend/src/chat/contentFilter.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { createApp } from '../../backend/src/app.ts';
import type { GroupEventWireMessage, WireMessage } from '../../backend/src/realtime/events.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type TestServer, type TestUser } from '../helpers/server.ts';
import { friendPair, quietPeriod, sendOverSocket } from '../helpers/chat.ts';
import { allGroupState, createGroup, groupState, usersWithFriend } from '../helpers/groups.ts';
import { collect, waitFor } from '../helpers/wait.ts';
import { png, upload } from '../helpers/uploads.ts';

describe('the matcher', () => {
  const mask = (words: string[], text: string) => createContentFilter(words).apply(text);

  it('masks each character of a listed word with one *, English and Chinese alike', () => {
    expect(mask(['darn', '坏蛋'], 'oh darn, 你这个坏蛋!')).toBe('oh ****, 你这个**!');
    expect(mask(['坏蛋'], '坏蛋坏蛋 好人')).toBe('**** 好人');
    expect(mask(['blue cheese'], 'I hate blue cheese.')).toBe('I hate ***********.');
  });

  it('ignores case (and full-width forms) of Latin letters', () => {
    expect(mask(['darn'], 'DARN Darn dArN')).toBe('**** **** ****');
    expect(mask(['DARN'], 'darn')).toBe('****');
    expect(mask(['darn'], 'ＤＡＲＮ')).toBe('****');
  });

  it('masks overlapping matches all, and matches inside longer words', () => {
    expect(mask(['he', 'she', 'hers'], 'ushers')).toBe('u*****');
    expect(mask(['abcd', 'cdef'], 'xxabcdefyy')).toBe('xx******yy');
    expect(mask(['aa'], 'aaaa b aaa')).toBe('**** b ***');
  });

  it('counts a character as the user sees it: an emoji or an accented letter is one *', () => {
    expect(mask(['👍🏽'], 'ok 👍🏽 ok')).toBe('ok * ok');
    expect(mask(['café'], 'un cafe\u0301 noir')).toBe('un **** noir');
    // A listed letter does not match half of a character.
    expect(mask(['e'], 'cafe\u0301')).toBe('cafe\u0301');
  });

  it('gives text without a match back unchanged, and an empty list filters nothing', () => {
    const text = 'nothing to see here 没有';
    expect(mask(['darn', '坏蛋'], text)).toBe(text);
    expect(mask([], 'darn')).toBe('darn');
    expect(mask(['  ', ''], 'darn')).toBe('darn');
  });

  it('refuses text with a listed word in reject mode (CONTENT_REJECTED, 422) and lets the rest through', () => {
    const filter = createContentFilter(['darn', '坏蛋'], 'reject');
    expect(filter.apply('all good')).toBe('all good');
    for (const text of ['Darn it', '你这个坏蛋']) {
      let thrown: unknown;
      try {
        filter.apply(text);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect(thrown).toMatchObject({ code: 'CONTENT_REJECTED', status: 422 });
      expect((thrown as Error).message).toMatch(/not allowed/);
    }
    expect(() => createContentFilter(['x'], 'block' as never)).toThrow(/mask.*reject/);
  });

  it('builds a list of 10,000 words (Chinese and English) and finds exactly the listed ones', () => {
    const hanzi = '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自可之';
    const words: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      words.push(i % 2 ? `${hanzi[i % hanzi.length]}${hanzi[(i * 7) % hanzi.length]}${i.toString(36)}` : `w${i.toString(36).padStart(4, 'q')}x`);
    }
    const filter = createContentFilter(words);
    expect(filter.apply(`say ${words[1234]} and ${words[9999]}, not w00000y`)).toBe(`say ${'*'.repeat(words[1234]!.length)} and ${'*'.repeat([...words[9999]!].length)}, not w00000y`);
    expect(filter.apply('W' + words[5000]!.slice(1).toUpperCase())).toBe('*'.repeat(words[5000]!.length));
  });

  it('reads a word list: one a line, blank lines and # comments left out, BOM and CRLF too', () => {
    expect(parseWordList('\uFEFFdarn\r\n\r\n# a comment\r\n  blue cheese  \n坏蛋\r  #also a comment\n')).toEqual(['darn', 'blue cheese', '坏蛋']);
    const dir = mkdtempSync(path.join(tmpdir(), 'fc-words-'));
    try {
      writeFileSync(path.join(dir, 'words.txt'), '# list\ndarn\n坏蛋\n');
      expect(readWordList(path.join(dir, 'words.txt'))).toEqual(['darn', '坏蛋']);
      expect(() => readWordList(path.join(dir, 'missing.txt'))).toThrow(/missing\.txt/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is configured by CONTENT_FILTER_FILE and CONTENT_FILTER_MODE (mask or reject, default mask)', () => {
    expect(loadConfig({})).toMatchObject({ contentFilterFile: undefined, contentFilterMode: 'mask' });
    expect(loadConfig({ CONTENT_FILTER_FILE: 'words.txt', CONTENT_FILTER_MODE: 'reject' })).toMatchObject({ contentFilterFile: 'words.txt', contentFilterMode: 'reject' });
    expect(() => loadConfig({ CONTENT_FILTER_MODE: 'block' })).toThrow(/CONTENT_FILTER_MODE/);
  });

  it('takes a host’s own filter, and refuses an option that is neither', () => {
    const own = { apply: (text: string) => text.replaceAll('x', '?') };
    expect(toContentFilter(own).apply('xox')).toBe('?o?');
    expect(toContentFilter({ words: ['x'] }).apply('xox')).toBe('*o*');
    expect(toContentFilter(undefined).apply('xox')).toBe('xox');
    expect(() => toContentFilter({ list: ['x'] } as never)).toThrow(/contentFilter/);
  });
});

describe('the app with CONTENT_FILTER_FILE naming no file', () => {
  it('does not start, and says which file it could not read', async () => {
    const config = loadConfig({ CONTENT_FILTER_FILE: '/nonexistent/banned-words.txt', PGLITE_DIR: 'memory://', LOG_LEVEL: 'silent' });
    await expect(createApp(config, { seed: false, staticDir: null })).rejects.toThrow(/\/nonexistent\/banned-words\.txt/);
  });
});

// The word list the demo app reads, as a site would write it.
const WORD_LIST = '# words the demo refuses\ndarn\n坏蛋\n\nabcd\ncdef\n';

describe.each(dbTargets())('the content filter of the app on %s', (target) => {
  let dir: string;
  let mask: TestServer;
  let reject: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'fc-filter-'));
    const file = path.join(dir, 'words.txt');
    writeFileSync(file, WORD_LIST);
    // The environment names the list, as it would for `npm start` (mask when no mode is given).
    const fromEnv = (env: Record<string, string>) => {
      const { contentFilterFile, contentFilterMode } = loadConfig(env);
      return { contentFilterFile, contentFilterMode };
    };
    [mask, reject] = await Promise.all([
      startServer({ target, config: fromEnv({ CONTENT_FILTER_FILE: file }) }),
      startServer({ target, config: fromEnv({ CONTENT_FILTER_FILE: file, CONTENT_FILTER_MODE: 'reject' }) }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([mask?.close(), reject?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const stored = async (s: TestServer, from: TestUser) =>
    s.app.db.sql<{ content: string; location: { label?: string } | null }>(
      `SELECT content, location FROM ${s.app.db.table('Message')} WHERE "fromUserId" = $1 ORDER BY "createdAt", id`,
      [from.id],
    );
  const post = (s: TestServer, u: TestUser, p: string, body: unknown) => s.request('POST', p, { token: u.token, body });
  const refusedWith = (r: { status: number; body: { error?: { code: string } } }) => expect({ status: r.status, code: r.body?.error?.code }).toEqual({ status: 422, code: 'CONTENT_REJECTED' });

  describe('mask', () => {
    it('masks a direct message sent over HTTP: stored, answered, pushed and in history masked', async () => {
      const [a, b] = await friendPair(mask);
      const tab = await mask.connect(b);
      const pushed = waitFor<{ message: WireMessage }>(tab, 'chat:message');
      const r = await post(mask, a, `/api/messages/${b.id}`, { content: 'Darn, 你这个坏蛋 xxabcdefyy', clientId: randomUUID() });
      expect(r.status).toBe(201);
      expect(r.body.message.content).toBe('****, 你这个** xx******yy');
      expect((await pushed).message.content).toBe('****, 你这个** xx******yy');
      expect((await stored(mask, a)).map((m) => m.content)).toEqual(['****, 你这个** xx******yy']);
      const history = await mask.request('GET', `/api/messages/${a.id}`, { token: b.token });
      expect(history.body.messages.map((m: WireMessage) => m.content)).toEqual(['****, 你这个** xx******yy']);
    });

    it('masks chat:send over the socket, and a resend of the clientId answers the same stored message', async () => {
      const [a, b] = await friendPair(mask);
      const [tabA, tabB] = [await mask.connect(a), await mask.connect(b)];
      const toB = collect<{ message: WireMessage }>(tabB, 'chat:message');
      const clientId = randomUUID();
      const first = await sendOverSocket(tabA, b.id, 'darn it', clientId);
      expect(first).toMatchObject({ ok: true, message: { content: '**** it' } });
      const again = await sendOverSocket(tabA, b.id, 'darn it', clientId);
      expect(again).toEqual(first);
      await quietPeriod();
      expect(toB.map((p) => p.message)).toEqual([first.message]);
      expect((await stored(mask, a)).map((m) => m.content)).toEqual(['**** it']);
    });

    it('masks group messages, captions of uploads and locations, and location labels', async () => {
      const [owner, member] = await usersWithFriend(mask, 2);
      const group = await createGroup(mask, owner!, [member!]);
      const inGroup = await post(mask, owner!, `/api/groups/${group.id}/messages`, { content: '坏蛋!', clientId: randomUUID() });
      expect(inGroup.body.message).toMatchObject({ groupId: group.id, content: '**!' });
      const ack = await (await mask.connect(member!)).timeout(5000).emitWithAck('chat:send', { groupId: group.id, content: 'DARN', clientId: randomUUID() });
      expect(ack).toMatchObject({ ok: true, message: { content: '****' } });

      const up = await upload(mask.url, owner!.token, await png(), { name: 'p.png', type: 'image/png' });
      expect(up.status).toBe(201);
      const image = await post(mask, owner!, `/api/messages/${member!.id}`, { attachmentId: up.body.attachment.id, content: 'look, darn', clientId: randomUUID() });
      expect(image.body.message).toMatchObject({ kind: 'image', content: 'look, ****' });
      const place = await post(mask, owner!, `/api/messages/${member!.id}`, {
        location: { lat: 1, lng: 2, label: 'Darn Street' },
        content: '坏蛋 here',
        clientId: randomUUID(),
      });
      expect(place.body.message).toMatchObject({ kind: 'location', content: '** here', location: { lat: 1, lng: 2, label: '**** Street' } });
      expect((await stored(mask, owner!)).map((m) => [m.content, m.location?.label])).toEqual([
        ['**!', undefined],
        ['look, ****', undefined],
        ['** here', '**** Street'],
      ]);
    });

    it('masks group names on create and rename, in the group and in its notices', async () => {
      const [owner, member] = await usersWithFriend(mask, 2);
      const created = await post(mask, owner!, '/api/groups', { name: 'Darn club', memberIds: [member!.id] });
      expect(created.status).toBe(201);
      expect(created.body.group.name).toBe('**** club');
      const groupId = created.body.group.id;
      const renamed = await mask.request('PATCH', `/api/groups/${groupId}`, { token: owner!.token, body: { name: '坏蛋 club' } });
      expect(renamed.body.group.name).toBe('** club');
      expect((await groupState(mask, groupId)).group).toMatchObject({ name: '** club' });
      const timeline = (await mask.request('GET', `/api/groups/${groupId}/messages`, { token: member!.token })).body.messages as GroupEventWireMessage[];
      expect(timeline.map((m) => [m.metadata.event, m.metadata.name, m.content])).toEqual([
        ['created', '**** club', expect.stringContaining('“**** club”')],
        ['renamed', '** club', expect.stringContaining('“** club”')],
      ]);
    });

    it('masks what the host sends through the module (chat.send)', async () => {
      const [a, b] = await friendPair(mask);
      const { message } = await mask.app.chat.send({ from: a.id, to: b.id, content: 'welcome, darn' });
      expect(message.content).toBe('welcome, ****');
      expect((await stored(mask, a)).map((m) => m.content)).toEqual(['welcome, ****']);
      expect(mask.app.chat.contentFilter.apply('DARN')).toBe('****');
    });
  });

  describe('reject', () => {
    it('refuses a direct message over HTTP with 422 CONTENT_REJECTED and a clear message, storing nothing', async () => {
      const [a, b] = await friendPair(reject);
      const r = await post(reject, a, `/api/messages/${b.id}`, { content: 'you 坏蛋', clientId: randomUUID() });
      refusedWith(r);
      expect(r.body.error.message).toMatch(/not allowed/);
      expect(await stored(reject, a)).toEqual([]);
      // Clean text still goes.
      expect((await post(reject, a, `/api/messages/${b.id}`, { content: 'you are nice' })).status).toBe(201);
    });

    it('answers chat:send with CONTENT_REJECTED in the ack, pushes and stores nothing', async () => {
      const [a, b] = await friendPair(reject);
      const [tabA, tabB] = [await reject.connect(a), await reject.connect(b)];
      const toB = collect(tabB, 'chat:message');
      const ack = await sendOverSocket(tabA, b.id, 'DARN');
      expect(ack).toMatchObject({ ok: false, error: { code: 'CONTENT_REJECTED', message: expect.stringMatching(/not allowed/) } });
      const group = await createGroup(reject, a, [b]);
      const inGroup = await tabA.timeout(5000).emitWithAck('chat:send', { groupId: group.id, content: 'xabcdx', clientId: randomUUID() });
      expect(inGroup).toMatchObject({ ok: false, error: { code: 'CONTENT_REJECTED' } });
      refusedWith(await post(reject, a, `/api/groups/${group.id}/messages`, { content: 'cdef' }));
      await quietPeriod();
      expect(toB.filter((p) => p.message.messageType === 'CHAT')).toEqual([]);
      expect(await stored(reject, a)).toEqual([]);
    });

    it('refuses captions and location labels; the upload stays unsent and can go with clean text', async () => {
      const [a, b] = await friendPair(reject);
      const up = await upload(reject.url, a.token, await png(), { name: 'p.png', type: 'image/png' });
      const attachmentId = up.body.attachment.id;
      refusedWith(await post(reject, a, `/api/messages/${b.id}`, { attachmentId, content: 'darn' }));
      refusedWith(await post(reject, a, `/api/messages/${b.id}`, { location: { lat: 1, lng: 2, label: '坏蛋 street' } }));
      expect(await stored(reject, a)).toEqual([]);
      const clean = await post(reject, a, `/api/messages/${b.id}`, { attachmentId, content: 'fine' });
      expect(clean.status).toBe(201);
      expect(clean.body.message).toMatchObject({ kind: 'image', content: 'fine' });
    });

    it('refuses group names on create and on rename, changing nothing', async () => {
      const [owner, member] = await usersWithFriend(reject, 2);
      const before = await allGroupState(reject);
      refusedWith(await post(reject, owner!, '/api/groups', { name: '坏蛋群', memberIds: [member!.id] }));
      expect(await allGroupState(reject)).toEqual(before);
      const group = await createGroup(reject, owner!, [member!], { name: 'Fine name' });
      const state = await groupState(reject, group.id);
      refusedWith(await reject.request('PATCH', `/api/groups/${group.id}`, { token: owner!.token, body: { name: 'Darn name' } }));
      expect(await groupState(reject, group.id)).toEqual(state);
    });

    it('refuses what the host sends through the module (chat.send) with CONTENT_REJECTED, storing nothing', async () => {
      const [a, b] = await friendPair(reject);
      await expect(reject.app.chat.send({ from: a.id, to: b.id, content: 'darn' })).rejects.toMatchObject({ code: 'CONTENT_REJECTED', status: 422 });
      expect(await stored(reject, a)).toEqual([]);
    });
  });
});
