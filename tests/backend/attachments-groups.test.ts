// Rich messages in groups (DESIGN.md, "Groups" and "Rich messages"): a group message may carry an
// upload or a location, over the socket and over HTTP; the members get it live with signed urls;
// the attachment is readable by the group's current members and by a former member only if it
// was sent before they left (as the group's history reads); someone else's upload cannot be sent
// (403 when the caller may read it, 404 otherwise); previews in the groups and conversations
// lists; a recall takes the upload with it; a deleted member's uploads stay with the group.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagePreview } from '../../backend/src/realtime/preview.ts';
import type { WireMessage } from '../../backend/src/realtime/events.ts';
import { quietPeriod } from '../helpers/chat.ts';
import { dbTargets } from '../helpers/db.ts';
import { createGroup, usersWithFriend } from '../helpers/groups.ts';
import { startServer, type ClientSocket, type TestServer, type TestUser } from '../helpers/server.ts';
import { getBytes, png, upload } from '../helpers/uploads.ts';
import { CHROMIUM_WEBM } from '../helpers/voice-fixtures.ts';
import { collect, emitAck, waitFor } from '../helpers/wait.ts';

const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n' + 'y'.repeat(300));

describe.each(dbTargets())('attachments in groups on %s', (target) => {
  let s: TestServer;
  // alice owns the group; bob and dave are members; carol is alice's friend but not in the group.
  let alice: TestUser;
  let bob: TestUser;
  let carol: TestUser;
  let dave: TestUser;
  let groupId: string;
  let aliceTab: ClientSocket;
  let bobTab: ClientSocket;
  let carolTab: ClientSocket;

  beforeAll(async () => {
    s = await startServer({ target });
    [alice, bob, carol, dave] = (await usersWithFriend(s, 4)) as [TestUser, TestUser, TestUser, TestUser];
    groupId = (await createGroup(s, alice, [bob, dave], { name: 'Photos' })).id;
    aliceTab = await s.connect(alice);
    bobTab = await s.connect(bob);
    carolTab = await s.connect(carol);
  });
  afterAll(() => s.close());

  const uploadAs = async (user: TestUser, bytes: Buffer, name: string) => {
    const r = await upload(s.url, user.token, bytes, { name });
    if (r.status !== 201) throw new Error(`upload failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.attachment;
  };
  const sendToGroup = (from: TestUser, gid: string, body: Record<string, unknown>) => s.request('POST', `/api/groups/${gid}/messages`, { token: from.token, body });
  const bearer = (user: TestUser) => ({ authorization: `Bearer ${user.token}` });
  const path = (id: string) => `/api/attachments/${id}`;
  const facts = ({ url: _u, thumbnailUrl: _t, ...rest }: Record<string, unknown>) => rest;
  const sentAt = async (id: string) => (await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id } })).sentAt;

  it('a group send with an image over the socket reaches every member live with attachment.url; not a non-member', async () => {
    const a = await uploadAs(alice, await png(90, 60), 'beach.png');
    const toBob = waitFor(bobTab, 'chat:message', 5000, (p) => p.message.groupId === groupId);
    const toCarol = collect(carolTab, 'chat:message');
    const ack = await emitAck(aliceTab, 'chat:send', { groupId, content: ' At the beach ', clientId: randomUUID(), attachmentId: a.id });
    expect(ack.ok).toBe(true);
    expect(ack.message).toMatchObject({ groupId, toUserId: null, fromUserId: alice.id, kind: 'image', content: 'At the beach', location: null });
    expect(ack.message.attachment).toEqual({ ...facts(a), url: expect.stringMatching(/^\/api\/attachments\/.+\?exp=\d+&sig=/), thumbnailUrl: expect.any(String) });

    const pushed = (await toBob).message;
    expect(pushed.id).toBe(ack.message.id);
    expect(pushed.kind).toBe('image');
    expect(facts(pushed.attachment)).toEqual(facts(a));
    const bytes = await getBytes(s.url, pushed.attachment.url);
    expect(bytes.status).toBe(200);
    expect(bytes.bytes.length).toBe(a.size);
    expect((await getBytes(s.url, pushed.attachment.thumbnailUrl)).headers.get('content-type')).toBe('image/webp');
    await quietPeriod();
    expect(toCarol).toEqual([]);

    // The group's history hands out the attachment with fresh urls.
    const history = await s.request('GET', `/api/groups/${groupId}/messages`, { token: bob.token });
    const inHistory = history.body.messages.find((m: WireMessage) => m.id === ack.message.id);
    expect(facts(inHistory.attachment)).toEqual(facts(a));
    expect((await getBytes(s.url, inHistory.attachment.url)).status).toBe(200);
    // And sync.
    const sync = await s.request('GET', '/api/messages/sync', { token: bob.token });
    expect(facts(sync.body.messages.find((m: WireMessage) => m.id === ack.message.id).attachment)).toEqual(facts(a));
  });

  it('a group send over HTTP with a file, a voice message or a location; previews in the groups and conversations lists', async () => {
    const f = await uploadAs(bob, PDF, 'minutes.pdf');
    const file = await sendToGroup(bob, groupId, { attachmentId: f.id });
    expect(file.status).toBe(201);
    expect(file.body.message).toMatchObject({ groupId, toUserId: null, kind: 'file', content: '', attachment: { id: f.id, kind: 'file', name: 'minutes.pdf' } });
    let groups = await s.request('GET', '/api/groups', { token: alice.token });
    let entry = groups.body.groups.find((g: { group: { id: string } }) => g.group.id === groupId);
    expect(entry.lastMessage).toMatchObject({ id: file.body.message.id, kind: 'file', attachment: { id: f.id, url: expect.stringMatching(/sig=/) } });
    expect(messagePreview(entry.lastMessage)).toBe('[File] minutes.pdf');

    const v = await uploadAs(dave, CHROMIUM_WEBM, 'note.webm');
    const voice = await sendToGroup(dave, groupId, { attachmentId: v.id, content: 'listen' });
    expect(voice.status).toBe(201);
    expect(voice.body.message).toMatchObject({ kind: 'voice', attachment: { kind: 'voice', durationMs: v.durationMs } });
    const conversations = await s.request('GET', '/api/messages/conversations/list', { token: bob.token });
    const inList = conversations.body.conversations.find((c: { group?: { id: string } }) => c.group?.id === groupId);
    expect(inList.lastMessage).toMatchObject({ id: voice.body.message.id, kind: 'voice', attachment: { id: v.id } });
    expect(messagePreview(inList.lastMessage)).toMatch(/^\[Voice \d+:\d\d\] listen$/);
    expect((await getBytes(s.url, inList.lastMessage.attachment.url)).status).toBe(200);

    const place = await sendToGroup(alice, groupId, { location: { lat: 48.8584, lng: 2.2945, label: 'Eiffel Tower' } });
    expect(place.status).toBe(201);
    expect(place.body.message).toMatchObject({ groupId, kind: 'location', attachment: null, location: { lat: 48.8584, lng: 2.2945, label: 'Eiffel Tower' } });
    groups = await s.request('GET', '/api/groups', { token: dave.token });
    entry = groups.body.groups.find((g: { group: { id: string } }) => g.group.id === groupId);
    expect(messagePreview(entry.lastMessage)).toBe('[Location] Eiffel Tower');

    // A location off the map, or an empty text message, is refused in a group as in direct chat.
    expect((await sendToGroup(alice, groupId, { location: { lat: 91, lng: 0 } })).status).toBe(400);
    expect((await sendToGroup(alice, groupId, { content: '' })).status).toBe(400);
    expect((await emitAck(aliceTab, 'chat:send', { groupId, content: '', clientId: randomUUID() })).error.code).toBe('VALIDATION');
  });

  it('members read the attachment (even one who joined later); a non-member gets 404', async () => {
    const a = await uploadAs(alice, PDF, 'plan.pdf');
    const m = (await sendToGroup(alice, groupId, { attachmentId: a.id })).body.message;
    for (const u of [alice, bob, dave]) {
      const r = await getBytes(s.url, path(a.id), bearer(u));
      expect(r.status).toBe(200);
      expect(r.bytes.equals(PDF)).toBe(true);
    }
    expect((await getBytes(s.url, path(a.id), bearer(carol))).status).toBe(404);
    // A member added afterwards reads the whole history, so this too.
    const erin = await s.register();
    await s.makeFriends(alice, erin);
    expect((await getBytes(s.url, path(a.id), bearer(erin))).status).toBe(404);
    expect((await s.request('POST', `/api/groups/${groupId}/members`, { token: alice.token, body: { userIds: [erin.id] } })).status).toBe(200);
    expect((await getBytes(s.url, path(a.id), bearer(erin))).status).toBe(200);
    // The signed url is a capability of its own, whoever holds it.
    expect((await getBytes(s.url, m.attachment.url)).status).toBe(200);
  });

  it("someone else's upload: FORBIDDEN for a member who can read it, 404 for a non-member; a non-member's own send is NOT_MEMBER and leaves it unsent", async () => {
    const a = await uploadAs(alice, await png(), 'mine.png');
    // Not sent yet: it means nothing to bob.
    const early = await sendToGroup(bob, groupId, { attachmentId: a.id });
    expect(early.status).toBe(404);
    expect(early.body.error.code).toBe('NOT_FOUND');
    expect((await sendToGroup(alice, groupId, { attachmentId: a.id })).status).toBe(201);
    // Bob can read it now: sending it on (to the group, or to a friend) is forbidden.
    const again = await sendToGroup(bob, groupId, { attachmentId: a.id });
    expect(again.status).toBe(403);
    expect(again.body.error.code).toBe('FORBIDDEN');
    const overSocket = await emitAck(bobTab, 'chat:send', { to: alice.id, content: '', clientId: randomUUID(), attachmentId: a.id });
    expect(overSocket.error.code).toBe('FORBIDDEN');
    // Carol never saw it.
    const carolSends = await s.request('POST', `/api/messages/${alice.id}`, { token: carol.token, body: { attachmentId: a.id } });
    expect(carolSends.status).toBe(404);
    expect(carolSends.body.error.code).toBe('NOT_FOUND');
    // Alice herself: sent once already.
    expect((await sendToGroup(alice, groupId, { attachmentId: a.id })).status).toBe(409);

    // Carol is no member: her own upload to the group is refused before it is claimed.
    const c = await uploadAs(carol, await png(), 'carol.png');
    const outsider = await sendToGroup(carol, groupId, { attachmentId: c.id });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('NOT_MEMBER');
    expect(await sentAt(c.id)).toBeNull();
    expect((await sendToGroup(carol, randomUUID(), { attachmentId: c.id })).status).toBe(404);
    expect(await sentAt(c.id)).toBeNull();
  });

  it('a former member reads what was sent before they left, not what was sent after', async () => {
    const [owner, gone, stays] = await usersWithFriend(s, 3);
    const g = (await createGroup(s, owner!, [gone!, stays!])).id;
    const before = await uploadAs(owner!, PDF, 'before.pdf');
    const mBefore = (await sendToGroup(owner!, g, { attachmentId: before.id })).body.message;
    expect((await s.request('DELETE', `/api/groups/${g}/members/${gone!.id}`, { token: gone!.token })).status).toBe(204);
    const after = await uploadAs(owner!, await png(), 'after.png');
    const mAfter = (await sendToGroup(owner!, g, { attachmentId: after.id })).body.message;

    expect((await getBytes(s.url, path(before.id), bearer(gone!))).status).toBe(200);
    expect((await getBytes(s.url, path(after.id), bearer(gone!))).status).toBe(404);
    expect((await getBytes(s.url, path(after.id), bearer(stays!))).status).toBe(200);
    // As the history they still read: the first message, not the second.
    const history = await s.request('GET', `/api/groups/${g}/messages`, { token: gone!.token });
    const ids = history.body.messages.map((m: WireMessage) => m.id);
    expect(ids).toContain(mBefore.id);
    expect(ids).not.toContain(mAfter.id);
    expect((await getBytes(s.url, history.body.messages.find((m: WireMessage) => m.id === mBefore.id).attachment.url)).status).toBe(200);
    // Sending them on: the one they may read is FORBIDDEN, the other unknown.
    const [friendOfGone] = [owner!];
    expect((await s.request('POST', `/api/messages/${friendOfGone.id}`, { token: gone!.token, body: { attachmentId: before.id } })).body.error.code).toBe('FORBIDDEN');
    expect((await s.request('POST', `/api/messages/${friendOfGone.id}`, { token: gone!.token, body: { attachmentId: after.id } })).body.error.code).toBe('NOT_FOUND');
  });

  it('a recalled group message takes its upload with it, for every member', async () => {
    const a = await uploadAs(bob, await png(), 'oops.png');
    const m = (await sendToGroup(bob, groupId, { attachmentId: a.id })).body.message;
    const deleted = waitFor(aliceTab, 'chat:deleted', 5000, (p: { messageId: string }) => p.messageId === m.id);
    expect((await s.request('DELETE', `/api/messages/${m.id}`, { token: bob.token })).status).toBe(204);
    expect(await deleted).toEqual({ messageId: m.id, groupId, deletedAt: expect.any(String) });
    expect((await getBytes(s.url, m.attachment.url)).status).toBe(404);
    expect((await getBytes(s.url, path(a.id), bearer(alice))).status).toBe(404);
    expect((await getBytes(s.url, path(a.id), bearer(bob))).status).toBe(404);
    expect(await s.app.db.prisma.attachment.findUnique({ where: { id: a.id } })).toBeNull();
  });

  it('a deleted member: their group uploads stay with the group (theirs no more), or go with their messages', async () => {
    const [owner, kept, dropped] = await usersWithFriend(s, 3);
    const g = (await createGroup(s, owner!, [kept!, dropped!])).id;
    const k = await uploadAs(kept!, await png(), 'stays.png');
    const km = (await sendToGroup(kept!, g, { attachmentId: k.id })).body.message;
    const unsent = await uploadAs(kept!, PDF, 'draft.pdf');
    await s.app.chat.userDeleted(kept!.id);
    expect(await s.app.db.prisma.attachment.findUnique({ where: { id: unsent.id } })).toBeNull();
    const row = await s.app.db.prisma.attachment.findUniqueOrThrow({ where: { id: k.id } });
    expect(row.uploaderId).toMatch(/^deleted:/);
    expect((await getBytes(s.url, path(k.id), bearer(owner!))).status).toBe(200);
    expect((await getBytes(s.url, path(k.id), bearer(dropped!))).status).toBe(200);
    expect((await getBytes(s.url, km.attachment.url)).status).toBe(200);

    // With their messages: their group message goes, and its upload with it (handed back as
    // unsent by the database, then deleted as the deleted user's unsent upload); the owner's
    // upload in the same group stays.
    const d = await uploadAs(dropped!, await png(), 'goes.png');
    const dm = (await sendToGroup(dropped!, g, { attachmentId: d.id })).body.message;
    const o = await uploadAs(owner!, PDF, 'owners.pdf');
    await sendToGroup(owner!, g, { attachmentId: o.id });
    expect(await sentAt(d.id)).not.toBeNull();
    await s.app.chat.userDeleted(dropped!.id, { messages: 'delete' });
    expect(await s.app.db.prisma.attachment.findUnique({ where: { id: d.id } })).toBeNull();
    expect((await getBytes(s.url, path(d.id), bearer(owner!))).status).toBe(404);
    expect((await getBytes(s.url, dm.attachment.url)).status).toBe(404);
    expect(await sentAt(o.id)).not.toBeNull();
    expect((await getBytes(s.url, path(o.id), bearer(owner!))).status).toBe(200);
  });
});
