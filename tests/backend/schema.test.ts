// The migrated databases match their Prisma schemas: every model and field of the chat module
// (prisma/friendchat/schema.prisma, in its own schema) and of the demo host
// (prisma/schema.prisma, in public) is written and read back through its generated client. A
// column missing from a migration, or of the wrong type, fails here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../backend/src/db/database.ts';
import { migrate } from '../../backend/src/db/migrate.ts';
import { openHostDatabase, type HostDatabase } from '../../backend/src/host/db.ts';
import { createTestDatabase, dbTargets, type TestDatabase } from '../helpers/db.ts';

describe.each(dbTargets())('migrated schemas on %s', (target) => {
  let tdb: TestDatabase;
  let host: HostDatabase;
  let db: Database;
  beforeAll(async () => {
    tdb = await createTestDatabase(target);
    host = await openHostDatabase({ databaseUrl: tdb.url, pgliteDir: tdb.pgliteDir });
    db = await openDatabase(host.source, { schema: 'friendchat' });
    await migrate(db, { schema: 'friendchat' });
    await host.migrate();
  });
  afterAll(async () => {
    await db.close();
    await host.close();
    await tdb.drop();
  });

  it('round-trips every model and field of the chat module through its client', async () => {
    const p = db.prisma;
    const readAt = new Date('2026-01-02T03:05:00.000Z');
    const msg = await p.message.create({
      data: {
        fromUserId: '42',
        toUserId: 'user-with-a-long-id-0123456789-0123456789-0123456789-0123456789x',
        messageType: 'CHAT',
        content: 'hi',
        metadata: { nested: { n: 1, s: 'x' }, list: [1, 2] },
        clientId: 'c-1',
        isRead: true,
        readAt,
        deletedAt: readAt,
      },
    });
    const back = await p.message.findUniqueOrThrow({ where: { fromUserId_clientId: { fromUserId: '42', clientId: 'c-1' } } });
    expect(back).toEqual({ ...msg, metadata: { nested: { n: 1, s: 'x' }, list: [1, 2] }, readAt, deletedAt: readAt, isRead: true });
    for (const type of ['SYSTEM_ACHIEVEMENT', 'SYSTEM_TASK', 'SYSTEM_PURCHASE', 'SYSTEM_FOLLOW', 'SYSTEM_FRIEND', 'SYSTEM_LIKE']) {
      const sys = await p.message.create({ data: { toUserId: '7', messageType: type, content: type } });
      expect(sys).toMatchObject({ fromUserId: null, messageType: type, metadata: {}, isRead: false, clientId: null });
    }
    // The unread counts the database keeps: chat per (recipient, sender); system messages are not kept.
    await p.message.create({ data: { fromUserId: '42', toUserId: '7', content: 'unread' } });
    expect(await p.unreadCount.findMany({ where: { userId: '7' } })).toEqual([{ userId: '7', peerId: '42', n: 1 }]);
    // clientId is unique per sender.
    await expect(p.message.create({ data: { fromUserId: '42', toUserId: '7', content: 'again', clientId: 'c-1' } })).rejects.toMatchObject({
      code: 'P2002',
    });
    // Lifecycle: delivered, edited, a reply, the change stamp, reactions.
    const reply = await p.message.create({
      data: { fromUserId: '7', toUserId: '42', content: 're', editedAt: readAt, replyToId: msg.id, changedAt: readAt },
    });
    expect(await p.message.findUniqueOrThrow({ where: { id: reply.id } })).toMatchObject({ editedAt: readAt, replyToId: msg.id, changedAt: readAt });
    const receipt = await p.delivery.create({ data: { messageId: reply.id, deliveredAt: readAt, fromUserId: '7', toUserId: '42' } });
    expect(await p.delivery.findUniqueOrThrow({ where: { messageId: reply.id } })).toEqual({ ...receipt, groupId: null });
    const reaction = await p.reaction.create({ data: { messageId: reply.id, userId: '42', emoji: '👍', createdAt: readAt } });
    expect(await p.reaction.findUniqueOrThrow({ where: { messageId_userId_emoji: { messageId: reply.id, userId: '42', emoji: '👍' } } })).toEqual(reaction);
    // Every change moves the stamp (a trigger), whatever statement makes it.
    const touched = await p.message.update({ where: { id: reply.id }, data: { isRead: true } });
    expect(touched.changedAt.getTime()).toBeGreaterThan(readAt.getTime());
    // Rich messages: an upload with every field, a message that carries it, one with a location.
    const at = new Date('2026-01-02T03:04:05.000Z');
    const attachment = await p.attachment.create({
      data: {
        id: '00000000-0000-4000-8000-0000000000aa',
        uploaderId: '42',
        kind: 'image',
        name: 'photo.jpg',
        mime: 'image/jpeg',
        size: 12345,
        width: 640,
        height: 480,
        durationMs: 1500,
        storageKey: 'att/aa/x',
        thumbKey: 'att/aa/x.thumb',
        thumbMime: 'image/webp',
        thumbSize: 321,
        createdAt: at,
        sentAt: at,
      },
    });
    expect(await p.attachment.findUniqueOrThrow({ where: { id: attachment.id } })).toEqual(attachment);
    const rich = await p.message.create({ data: { fromUserId: '42', toUserId: '7', content: '', kind: 'image', attachmentId: attachment.id } });
    expect(await p.message.findUniqueOrThrow({ where: { id: rich.id }, include: { attachment: true } })).toMatchObject({
      kind: 'image',
      location: null,
      attachment: { id: attachment.id, sentAt: at },
    });
    // An upload is carried by one message at most.
    await expect(p.message.create({ data: { fromUserId: '42', toUserId: '8', content: '', attachmentId: attachment.id } })).rejects.toMatchObject({ code: 'P2002' });
    const place = await p.message.create({ data: { fromUserId: '42', toUserId: '7', content: '', kind: 'location', location: { lat: 1.5, lng: -2, label: 'x' } } });
    expect((await p.message.findUniqueOrThrow({ where: { id: place.id } })).location).toEqual({ lat: 1.5, lng: -2, label: 'x' });
    expect(msg.kind).toBe('text');
    // Deleting an upload leaves the message, without it.
    await p.attachment.delete({ where: { id: attachment.id } });
    expect((await p.message.findUniqueOrThrow({ where: { id: rich.id } })).attachmentId).toBeNull();
    const outbox = await p.hookOutbox.create({ data: { messageId: msg.id, runAt: readAt, attempts: 2, lastError: 'boom', failedAt: readAt, createdAt: readAt } });
    expect(await p.hookOutbox.findUniqueOrThrow({ where: { messageId: msg.id } })).toEqual(outbox);
    expect(outbox).toEqual({ messageId: msg.id, runAt: readAt, attempts: 2, lastError: 'boom', failedAt: readAt, createdAt: readAt });
    await p.moduleSecret.create({ data: { name: 'k', value: 'v' } });
    expect(await p.moduleSecret.findUniqueOrThrow({ where: { name: 'k' } })).toEqual({ name: 'k', value: 'v' });

    const seen = new Date('2026-01-02T03:04:05.678Z');
    await p.userPresence.create({ data: { userId: '42', lastSeenAt: seen } });
    expect(await p.userPresence.findUniqueOrThrow({ where: { userId: '42' } })).toEqual({ userId: '42', lastSeenAt: seen });
  });

  it('round-trips the group models (Group, GroupMember, Mute) and group messages through the client', async () => {
    const p = db.prisma;
    const at = new Date('2026-02-03T04:05:06.789Z');
    const group = await p.group.create({
      data: { name: 'G', avatarUrl: 'https://x/g.png', visibility: 'public', ownerId: '42', memberCount: 2, createdAt: at, lastSeq: 9_007_199_254_740_993n, recalledSeq: 5n },
    });
    expect(await p.group.findUniqueOrThrow({ where: { id: group.id } })).toEqual({
      id: group.id,
      name: 'G',
      avatarUrl: 'https://x/g.png',
      visibility: 'public',
      ownerId: '42',
      memberCount: 2,
      createdAt: at,
      lastSeq: 9_007_199_254_740_993n,
      recalledSeq: 5n,
    });
    expect(await p.group.create({ data: { name: 'Defaults', ownerId: '7' } })).toMatchObject({ visibility: 'private', memberCount: 0, avatarUrl: null, lastSeq: 0n, recalledSeq: 0n });
    await p.groupMember.create({ data: { groupId: group.id, userId: '42', role: 'owner', joinedAt: at, readAt: at, readSeq: 4n, sentSinceRead: 2 } });
    await p.groupMember.create({ data: { groupId: group.id, userId: '7', leftAt: at } });
    const members = await p.groupMember.findMany({ where: { groupId: group.id }, orderBy: { userId: 'asc' } });
    expect(members).toEqual([
      { groupId: group.id, userId: '42', role: 'owner', joinedAt: at, leftAt: null, readAt: at, readSeq: 4n, sentSinceRead: 2 },
      { groupId: group.id, userId: '7', role: 'member', joinedAt: expect.any(Date), leftAt: at, readAt: expect.any(Date), readSeq: 0n, sentSinceRead: 0 },
    ]);
    // One membership per user and group.
    await expect(p.groupMember.create({ data: { groupId: group.id, userId: '42' } })).rejects.toMatchObject({ code: 'P2002' });
    const m = await p.message.create({ data: { fromUserId: '42', groupId: group.id, content: 'to the group', seq: 7n } });
    expect(m).toMatchObject({ toUserId: null, groupId: group.id, messageType: 'CHAT', seq: 7n });
    expect(await p.message.findUniqueOrThrow({ where: { id: m.id } })).toMatchObject({ seq: 7n });
    const mute = await p.mute.create({ data: { userId: '7', kind: 'group', targetId: group.id, until: at } });
    expect(await p.mute.findUniqueOrThrow({ where: { userId_kind_targetId: { userId: '7', kind: 'group', targetId: group.id } } })).toEqual(mute);
    expect(mute).toMatchObject({ until: at, createdAt: expect.any(Date) });
    // A group that is gone takes its memberships and messages with it.
    await p.group.delete({ where: { id: group.id } });
    expect(await p.groupMember.count({ where: { groupId: group.id } })).toBe(0);
    expect(await p.message.count({ where: { groupId: group.id } })).toBe(0);
  });

  it('keeps the module in its own schema and the host in public', async () => {
    const tables = await db.sql<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_schema IN ('public', 'friendchat') ORDER BY 1, 2`,
    );
    expect(tables.filter((t) => t.schema === 'friendchat').map((t) => t.name)).toEqual(['Attachment', 'Delivery', 'Group', 'GroupMember', 'HookOutbox', 'Message', 'ModuleSecret', 'Mute', 'Reaction', 'UnreadCount', 'UserPresence', '_prisma_migrations']);
    expect(tables.filter((t) => t.schema === 'public').map((t) => t.name)).toEqual([
      'Achievement',
      'Follow',
      'Purchase',
      'Task',
      'User',
      'UserAchievement',
      'UserTask',
      'Work',
      '_prisma_migrations',
    ]);
  });

  it('round-trips every model and field of the demo host through its client', async () => {
    const p = host.prisma;
    const alice = await p.user.create({ data: { username: 'alice', passwordHash: 'h1', displayName: 'Alice', avatarUrl: 'https://x/a.png' } });
    const bob = await p.user.create({ data: { username: 'bob', passwordHash: 'h2', displayName: 'Bob' } });
    expect(await p.user.findUniqueOrThrow({ where: { id: alice.id } })).toEqual({
      id: alice.id,
      username: 'alice',
      passwordHash: 'h1',
      displayName: 'Alice',
      avatarUrl: 'https://x/a.png',
      createdAt: alice.createdAt,
    });

    await p.follow.create({ data: { followerId: alice.id, followeeId: bob.id } });
    const follow = await p.follow.findUniqueOrThrow({
      where: { followerId_followeeId: { followerId: alice.id, followeeId: bob.id } },
    });
    expect(follow.createdAt).toBeInstanceOf(Date);

    const work = await p.work.create({ data: { ownerId: alice.id, title: 'Painting', price: 42 } });
    const purchase = await p.purchase.create({ data: { workId: work.id, buyerId: bob.id, price: 42 } });
    expect(await p.purchase.findUniqueOrThrow({ where: { id: purchase.id }, include: { work: true, buyer: true } })).toMatchObject({
      price: 42,
      work: { title: 'Painting', ownerId: alice.id },
      buyer: { username: 'bob' },
    });

    const ach = await p.achievement.create({ data: { code: 'X', title: 'X!', description: 'd' } });
    await p.userAchievement.create({ data: { userId: bob.id, achievementId: ach.id } });
    expect(await p.userAchievement.findMany({ where: { userId: bob.id }, include: { achievement: true } })).toMatchObject([
      { achievement: { code: 'X', title: 'X!', description: 'd' }, unlockedAt: expect.any(Date) },
    ]);

    const task = await p.task.create({ data: { code: 'T', title: 'Task', description: 'do it', reward: 7 } });
    await p.userTask.create({ data: { userId: bob.id, taskId: task.id } });
    expect(await p.userTask.findMany({ where: { userId: bob.id }, include: { task: true } })).toMatchObject([
      { task: { code: 'T', reward: 7 }, completedAt: expect.any(Date) },
    ]);

    // Relations resolve both ways.
    const full = await p.user.findUniqueOrThrow({
      where: { id: bob.id },
      include: { followers: true, purchases: true, achievements: true, tasks: true },
    });
    expect(full.followers).toHaveLength(1);
    expect(full.purchases).toHaveLength(1);
  });

  it('has the indexes DESIGN.md requires on Message', async () => {
    const rows = await db.sql<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE schemaname = 'friendchat' AND tablename = 'Message'`);
    const defs = rows.map((r) => r.indexdef.replace(/"/g, ''));
    for (const cols of ['(toUserId, isRead)', '(fromUserId, toUserId, createdAt)', '(toUserId, createdAt)', '(messageType)']) {
      expect(defs.some((d) => d.endsWith(cols))).toBe(true);
    }
    // A group's pages, holding group messages only (migration 20261225000000_slim_message_indexes).
    expect(defs.some((d) => d.endsWith('(groupId, createdAt, id) WHERE (groupId IS NOT NULL)'))).toBe(true);
    // Recalled group messages, for the unread counts (migration 20261206000000_group_read_seq).
    expect(defs.some((d) => d.endsWith('(groupId, seq) WHERE (deletedAt IS NOT NULL)'))).toBe(true);
  });
});
