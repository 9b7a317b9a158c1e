// Rich messages (DESIGN.md, "Rich messages"): sending an upload or a location, the wire shape
// everywhere a message appears (live, history, sync, the conversations list) with fresh signed
// urls, who may read an attachment, signed urls that expire and cannot be tampered with, range
// requests, safe headers, an upload sent once, and a recall that takes the upload with it.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlSigner } from '../../backend/src/uploads/signing.ts';
import { friendPair, quietPeriod } from '../helpers/chat.ts';
import { dbTargets } from '../helpers/db.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { getBytes, png, upload } from '../helpers/uploads.ts';
import { CHROMIUM_WEBM } from '../helpers/voice-fixtures.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n' + 'x'.repeat(200));

describe.each(dbTargets())('attachments on %s', (target) => {
  let s: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let aliceTab: ClientSocket;
  let bobTab: ClientSocket;

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob] = await friendPair(s);
    carol = await s.register();
    // carol is alice's friend, a stranger to bob.
    await s.makeFriends(alice, carol);
    aliceTab = await s.connect(alice);
    bobTab = await s.connect(bob);
  });
  afterAll(() => s.close());

  const uploadAs = async (user: TestUser, bytes: Buffer, name: string) => {
    const r = await upload(s.url, user.token, bytes, { name });
    if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.attachment;
  };
  const send = (from: TestUser, to: TestUser, body: Record<string, unknown>) => s.request('POST', `/api/messages/${to.id}`, { token: from.token, body });
  const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });
  const path = (id: string, thumbnail = false) => `/api/attachments/${id}${thumbnail ? '/thumbnail' : ''}`;
  /** The attachment without its urls (they are signed afresh on every answer). */
  const facts = ({ url: _u, thumbnailUrl: _t, ...rest }: Record<string, unknown>) => rest;

  it('sends an image with a caption: the same attachment live, in history, sync and the conversations list', async () => {
    const a = await uploadAs(alice, await png(80, 60), 'sunset.png');
    const live = waitFor(bobTab, 'chat:message');
    const res = await send(alice, bob, { attachmentId: a.id, content: '  Look at this!  ', clientId: 'img-1' });
    expect(res.status).toBe(201);
    const m = res.body.message;
    expect(Object.keys(m).sort()).toEqual(
      [
        ...['attachment', 'clientId', 'content', 'createdAt', 'fromUserId', 'groupId', 'id', 'isRead', 'kind', 'location', 'messageType', 'metadata', 'readAt', 'toUserId'],
        ...['deliveredAt', 'editedAt', 'deletedAt', 'replyTo', 'reactions'],
      ].sort(),
    );
    expect(m).toMatchObject({ kind: 'image', content: 'Look at this!', location: null, messageType: 'CHAT' });
    expect(m.attachment).toEqual({ ...facts(a), url: expect.stringMatching(/^\/api\/attachments\/.+\?exp=\d+&sig=/), thumbnailUrl: expect.any(String) });

    const pushed = (await live).message;
    expect(pushed.id).toBe(m.id);
    expect(facts(pushed.attachment)).toEqual(facts(a));
    // Bob reads it through the url he was given, without a token.
    const bytes = await getBytes(s.url, pushed.attachment.url);
    expect(bytes.status).toBe(200);
    expect(bytes.bytes.length).toBe(a.size);
    expect((await getBytes(s.url, pushed.attachment.thumbnailUrl)).headers.get('content-type')).toBe('image/webp');

    const history = await s.request('GET', `/api/messages/${alice.id}`, { token: bob.token });
    const inHistory = history.body.messages.find((x: { id: string }) => x.id === m.id);
    expect(facts(inHistory.attachment)).toEqual(facts(a));
    expect((await getBytes(s.url, inHistory.attachment.url)).status).toBe(200);

    const sync = await s.request('GET', '/api/messages/sync', { token: bob.token });
    expect(facts(sync.body.messages.find((x: { id: string }) => x.id === m.id).attachment)).toEqual(facts(a));

    const list = await s.request('GET', '/api/messages/conversations/list', { token: bob.token });
    const entry = list.body.conversations.find((c: { peer: { id: string } }) => c.peer.id === alice.id);
    expect(entry.lastMessage).toMatchObject({ id: m.id, kind: 'image' });
    expect(facts(entry.lastMessage.attachment)).toEqual(facts(a));
  });

  it('sends a voice message over the socket with no caption; text messages say kind text', async () => {
    const a = await uploadAs(alice, CHROMIUM_WEBM, 'voice');
    const live = waitFor(bobTab, 'chat:message');
    const ack = await emitAck(aliceTab, 'chat:send', { to: bob.id, content: '', clientId: randomUUID(), attachmentId: a.id });
    expect(ack.ok).toBe(true);
    expect(ack.message).toMatchObject({ kind: 'voice', content: '', location: null, attachment: { id: a.id, kind: 'voice', mime: 'audio/webm', durationMs: a.durationMs } });
    expect((await live).message.attachment.durationMs).toBe(a.durationMs);

    const text = await emitAck(aliceTab, 'chat:send', { to: bob.id, content: 'plain', clientId: randomUUID() });
    expect(text.message).toMatchObject({ kind: 'text', attachment: null, location: null, content: 'plain' });
    // A text message still needs its text.
    const empty = await emitAck(aliceTab, 'chat:send', { to: bob.id, content: '  ', clientId: randomUUID() });
    expect(empty).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
  });

  describe('locations', () => {
    it('sends a place with or without a label, the edges of the map included', async () => {
      const res = await send(alice, bob, { location: { lat: 48.8584, lng: 2.2945, label: ' Eiffel Tower ' }, content: '' });
      expect(res.status).toBe(201);
      expect(res.body.message).toMatchObject({ kind: 'location', content: '', attachment: null, location: { lat: 48.8584, lng: 2.2945, label: 'Eiffel Tower' } });
      const bare = await send(alice, bob, { location: { lat: -90, lng: 180 } });
      expect(bare.body.message.location).toEqual({ lat: -90, lng: 180 });
      const edge = await send(alice, bob, { location: { lat: 90, lng: -180, label: '' }, content: 'the pole' });
      expect(edge.body.message).toMatchObject({ content: 'the pole', location: { lat: 90, lng: -180 } });
      const history = await s.request('GET', `/api/messages/${alice.id}`, { token: bob.token });
      expect(history.body.messages.at(-1).location).toEqual({ lat: 90, lng: -180 });
    });

    it('refuses a place off the map or malformed: 400, nothing stored', async () => {
      const before = (await s.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token })).body.messages.length;
      const bad = [
        { lat: 90.0001, lng: 0 },
        { lat: -91, lng: 0 },
        { lat: 0, lng: 180.5 },
        { lat: 0, lng: -181 },
        { lat: '48.8', lng: 2.3 },
        { lat: 48.8 },
        { lat: 1, lng: 2, label: 'x'.repeat(101) },
        { lat: 1, lng: 2, altitude: 3 },
        null,
      ];
      for (const location of bad) {
        const res = await send(alice, bob, { location });
        expect(res.status, JSON.stringify(location)).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION');
      }
      const socket = await emitAck(aliceTab, 'chat:send', { to: bob.id, content: '', clientId: randomUUID(), location: { lat: 0, lng: 200 } });
      expect(socket).toMatchObject({ ok: false, error: { code: 'VALIDATION' } });
      // An attachment and a location together.
      const a = await uploadAs(alice, await png(), 'x.png');
      const both = await send(alice, bob, { attachmentId: a.id, location: { lat: 1, lng: 2 } });
      expect(both.status).toBe(400);
      const after = (await s.request('GET', `/api/messages/${alice.id}?limit=100`, { token: bob.token })).body.messages.length;
      expect(after).toBe(before);
    });
  });

  describe("someone else's upload, and an upload sent twice", () => {
    it("someone else's unsent upload means nothing to you (404); one they sent you is FORBIDDEN to send on", async () => {
      const b = await uploadAs(bob, await png(), 'bobs.png');
      const stolen = await send(alice, bob, { attachmentId: b.id });
      expect(stolen.status).toBe(404);
      expect(stolen.body.error.code).toBe('NOT_FOUND');
      expect((await send(bob, alice, { attachmentId: b.id })).status).toBe(201);
      // Alice received it, so she knows it: forwarding it to carol is forbidden, not unknown.
      const forward = await send(alice, carol, { attachmentId: b.id });
      expect(forward.status).toBe(403);
      expect(forward.body.error.code).toBe('FORBIDDEN');
      // Carol never saw it.
      expect((await send(carol, alice, { attachmentId: b.id })).body.error.code).toBe('NOT_FOUND');
      expect((await send(alice, bob, { attachmentId: randomUUID() })).status).toBe(404);
      expect((await send(alice, bob, { attachmentId: 'not-a-uuid' })).status).toBe(400);
    });

    it('an upload is sent once: again → 409 CONFLICT; a resend of the same clientId is the first message, pushed once', async () => {
      const a = await uploadAs(alice, PDF, 'report.pdf');
      const pushes = collect(bobTab, 'chat:message');
      const first = await send(alice, bob, { attachmentId: a.id, clientId: 'once-1' });
      expect(first.status).toBe(201);
      const again = await send(alice, bob, { attachmentId: a.id, clientId: 'once-2' });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('CONFLICT');
      expect((await send(alice, carol, { attachmentId: a.id })).status).toBe(409);
      const resend = await send(alice, bob, { attachmentId: a.id, clientId: 'once-1' });
      expect(resend.status).toBe(201);
      expect(resend.body.message.id).toBe(first.body.message.id);
      await quietPeriod();
      expect(pushes.filter((p) => p.message.attachment?.id === a.id)).toHaveLength(1);
    });

    it('two sends of one upload at once: exactly one is stored', async () => {
      const a = await uploadAs(alice, PDF, 'race.pdf');
      const results = await Promise.all([send(alice, bob, { attachmentId: a.id }), send(alice, carol, { attachmentId: a.id })]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      expect(await s.app.db.prisma.message.count({ where: { attachmentId: a.id } })).toBe(1);
    });

    it('a send to someone who is not a friend leaves the upload unsent', async () => {
      const a = await uploadAs(bob, PDF, 'x.pdf');
      expect((await send(bob, carol, { attachmentId: a.id })).body.error.code).toBe('NOT_FRIENDS');
      expect((await send(bob, alice, { attachmentId: a.id })).status).toBe(201);
    });
  });

  describe('reading an attachment', () => {
    it('the uploader, and once sent the two parties; anyone else gets 404, no credentials 401', async () => {
      const a = await uploadAs(alice, PDF, 'private.pdf');
      expect((await getBytes(s.url, path(a.id), bearer(alice))).status).toBe(200);
      expect((await getBytes(s.url, path(a.id), bearer(bob))).status).toBe(404);
      const none = await getBytes(s.url, path(a.id));
      expect(none.status).toBe(401);
      expect(JSON.parse(none.bytes.toString()).error.code).toBe('UNAUTHORIZED');
      await send(alice, bob, { attachmentId: a.id });
      const forBob = await getBytes(s.url, path(a.id), bearer(bob));
      expect(forBob.status).toBe(200);
      expect(forBob.bytes.equals(PDF)).toBe(true);
      expect((await getBytes(s.url, path(a.id), bearer(carol))).status).toBe(404);
      expect((await getBytes(s.url, path(a.id), { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await getBytes(s.url, '/api/attachments/not-a-uuid', bearer(alice))).status).toBe(400);
      expect((await getBytes(s.url, path(randomUUID()), bearer(alice))).status).toBe(404);
      // A file has no thumbnail.
      expect((await getBytes(s.url, path(a.id, true), bearer(alice))).status).toBe(404);
    });

    it('a signed url works without a token; tampered, swapped or expired → 403 and no bytes', async () => {
      const a = await uploadAs(alice, await png(), 'signed.png');
      expect((await getBytes(s.url, a.url)).status).toBe(200);
      const u = new URL(a.url, s.url);
      const exp = u.searchParams.get('exp')!;
      const sig = u.searchParams.get('sig')!;
      const flip = (c: string) => (c === 'A' ? 'B' : 'A');
      const attempts = [
        `${path(a.id)}?exp=${exp}&sig=${sig.slice(0, -1)}${flip(sig.at(-1)!)}`, // tampered signature
        `${path(a.id)}?exp=${Number(exp) + 3600}&sig=${sig}`, // a later expiry
        `${path(a.id, true)}?exp=${exp}&sig=${sig}`, // the file's signature on the thumbnail
        `${path(randomUUID())}?exp=${exp}&sig=${sig}`, // on another id
        `${path(a.id)}?sig=${sig}`,
        `${path(a.id)}?exp=${exp}`,
        `${path(a.id)}?exp=${exp}&sig=short`,
        `${path(a.id)}?exp=${exp}&sig=${sig}&sig=${sig}`,
      ];
      for (const url of attempts) {
        const r = await getBytes(s.url, url, bearer(alice));
        expect(r.status, url).toBe(403);
        expect(JSON.parse(r.bytes.toString()).error.code, url).toBe('FORBIDDEN');
      }
      // Signed with the module's own key, but expired an hour ago.
      const [{ value }] = (await s.app.db.sql<{ value: string }>(`SELECT value FROM ${s.app.db.table('ModuleSecret')}`)) as [{ value: string }];
      const signer = createUrlSigner(value, { ttlSeconds: 86_400, publicPath: '/api' });
      const fresh = signer.url(a.id, 'file');
      expect((await getBytes(s.url, fresh)).status).toBe(200);
      const expired = signer.url(a.id, 'file', Date.now() - 86_400_000 - 3_600_000 * 2);
      const r = await getBytes(s.url, expired);
      expect(r.status).toBe(403);
      expect(JSON.parse(r.bytes.toString()).error.message).toMatch(/expired/);
    });

    it('serves ranges (206, 416) with safe headers', async () => {
      const a = await uploadAs(alice, PDF, '报告 2026.pdf');
      const full = await getBytes(s.url, a.url);
      expect(full.headers.get('accept-ranges')).toBe('bytes');
      expect(full.headers.get('content-type')).toBe('application/pdf');
      expect(full.headers.get('content-disposition')).toBe(`attachment; filename="__ 2026.pdf"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%202026.pdf`);
      expect(full.headers.get('x-content-type-options')).toBe('nosniff');
      expect(full.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
      const size = PDF.length;
      const ranges: [string, number, number][] = [
        ['bytes=0-9', 0, 9],
        ['bytes=10-', 10, size - 1],
        ['bytes=-5', size - 5, size - 1],
        [`bytes=5-${size + 100}`, 5, size - 1],
      ];
      for (const [range, start, end] of ranges) {
        const r = await getBytes(s.url, a.url, { range });
        expect(r.status, range).toBe(206);
        expect(r.headers.get('content-range'), range).toBe(`bytes ${start}-${end}/${size}`);
        expect(r.headers.get('content-length'), range).toBe(String(end - start + 1));
        expect(r.bytes.equals(PDF.subarray(start, end + 1)), range).toBe(true);
      }
      for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
        const r = await getBytes(s.url, a.url, { range });
        expect(r.status, range).toBe(416);
        expect(r.headers.get('content-range'), range).toBe(`bytes */${size}`);
      }
      // Several ranges, or nonsense: the whole file.
      for (const range of ['bytes=0-1,4-5', 'items=0-1']) {
        const r = await getBytes(s.url, a.url, { range });
        expect(r.status, range).toBe(200);
        expect(r.bytes.equals(PDF)).toBe(true);
      }
      // A voice message plays from the middle.
      const v = await uploadAs(alice, CHROMIUM_WEBM, 'v.webm');
      const part = await getBytes(s.url, v.url, { range: 'bytes=100-199' });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-type')).toBe('audio/webm');
      expect(part.bytes.equals(CHROMIUM_WEBM.subarray(100, 200))).toBe(true);
    });

    it('a deleted user: their unsent uploads go, the sent ones stay with the other party (theirs no more), or go with the messages', async () => {
      const [dora, ed] = await friendPair(s);
      const unsent = await uploadAs(dora, PDF, 'draft.pdf');
      const kept = await uploadAs(dora, await png(), 'kept.png');
      const m = (await send(dora, ed, { attachmentId: kept.id })).body.message;
      await s.app.chat.userDeleted(dora.id);
      expect(await s.app.db.prisma.attachment.findUnique({ where: { id: unsent.id } })).toBeNull();
      const row = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: kept.id } });
      expect(row.uploaderId).toMatch(/^deleted:/);
      expect((await getBytes(s.url, path(kept.id), bearer(ed))).status).toBe(200);
      expect((await getBytes(s.url, m.attachment.url)).status).toBe(200);

      // With her messages: the upload is handed back as unsent, and the cleanup job deletes it.
      const [fay, gus] = await friendPair(s);
      const gone = await uploadAs(gus, await png(), 'to-fay.png');
      await send(gus, fay, { attachmentId: gone.id });
      await s.app.chat.userDeleted(fay.id, { messages: 'delete' });
      const released = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: gone.id } });
      expect(released.sentAt).toBeNull();
      await s.app.chat.internals.services.attachments.cleanup({ now: new Date(Date.now() + 25 * 3600_000) });
      expect(await s.app.db.prisma.attachment.findUnique({ where: { id: gone.id } })).toBeNull();
      expect(existsSync(join(s.app.config.uploadDir, released.storageKey))).toBe(false);
    });

    it('a recalled message takes its upload with it, for everyone', async () => {
      const a = await uploadAs(alice, await png(), 'oops.png');
      const m = (await send(alice, bob, { attachmentId: a.id })).body.message;
      const row = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: a.id } });
      expect(row.sentAt).not.toBeNull();
      expect((await s.request('DELETE', `/api/messages/${m.id}`, { token: alice.token })).status).toBe(204);
      expect((await getBytes(s.url, m.attachment.url)).status).toBe(404);
      expect((await getBytes(s.url, path(a.id), bearer(alice))).status).toBe(404);
      expect((await getBytes(s.url, path(a.id), bearer(bob))).status).toBe(404);
      expect(await s.app.db.prisma.attachment.findUnique({ where: { id: a.id } })).toBeNull();
      expect(existsSync(join(s.app.config.uploadDir, row.storageKey))).toBe(false);
      expect(existsSync(join(s.app.config.uploadDir, row.thumbKey!))).toBe(false);
    });
  });
});
