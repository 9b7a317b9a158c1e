// notificationService: turns host-app events into system messages (fromUserId null),
// stored with the action that caused them and then pushed live (DESIGN.md).
//
// Two halves, so a notification can never be lost to a push failure:
//   store(tx, …)  — inside the caller's transaction: the message commits with the action.
//   publish(msgs) — after commit: `notification:new` + `unread:update`; never throws.
// `notify` / `notifyMany` do both for callers that have no transaction of their own.
import type { Message } from '../generated/prisma/client.ts';
import type { Database } from '../db/database.ts';
import { insertSystemMessages } from '../chat/sql.ts';
import { Prisma } from '../generated/prisma/client.ts';
import type { Bus } from '../realtime/bus.ts';
import type { PublicUser, SystemMessageType, SystemMetadata } from '../realtime/events.ts';
import type { UnreadService } from '../chat/unread.ts';
import { toWire } from '../chat/wire.ts';

export type Tx = Prisma.TransactionClient;

export interface NotificationInput<T extends SystemMessageType = SystemMessageType> {
  userId: string;
  type: T;
  content: string;
  metadata: SystemMetadata[T];
}

export function createNotificationService(
  db: Database,
  bus: Bus,
  unread: UnreadService,
  onError: (err: unknown) => void = () => {},
) {
  async function store(tx: Tx, input: NotificationInput): Promise<Message> {
    return tx.message.create({
      data: {
        fromUserId: null,
        toUserId: input.userId,
        messageType: input.type,
        content: input.content,
        metadata: input.metadata as unknown as Prisma.InputJsonValue,
      },
    });
  }

  /** Stores a batch in one statement inside the caller's transaction. */
  async function storeMany(tx: Tx, inputs: NotificationInput[]): Promise<Message[]> {
    if (inputs.length === 0) return [];
    return tx.message.createManyAndReturn({
      data: inputs.map((i) => ({
        fromUserId: null,
        toUserId: i.userId,
        messageType: i.type,
        content: i.content,
        metadata: i.metadata as unknown as Prisma.InputJsonValue,
      })),
    });
  }

  /**
   * Pushes stored notifications to their users' tabs. A failure is logged, never thrown, and
   * each push stands alone: one that fails does not cost the others theirs.
   */
  async function publish(messages: Message[]): Promise<void> {
    for (const m of messages) {
      try {
        bus.emit(m.toUserId, 'notification:new', { message: toWire(m) });
      } catch (err) {
        onError(err);
      }
    }
    try {
      // Recounts per user, each on its own (unread.push never throws for one user).
      await unread.push(messages.map((m) => m.toUserId));
    } catch (err) {
      onError(err);
    }
  }

  async function notify<T extends SystemMessageType>(
    userId: string,
    type: T,
    content: string,
    metadata: SystemMetadata[T],
  ): Promise<Message> {
    const message = await store(db.prisma, { userId, type, content, metadata } as NotificationInput);
    await publish([message]);
    return message;
  }

  /** One insert for the whole batch, then the pushes. */
  /** `onStored` runs once the batch is committed, before the pushes (for measurements). */
  async function notifyMany(inputs: NotificationInput[], onStored?: () => void): Promise<Message[]> {
    if (inputs.length === 0) return [];
    // Batches can be large (an announcement to every user): one plain INSERT … unnest per
    // 5,000, not the ORM's per-row work.
    const messages = await insertSystemMessages(
      db,
      inputs.map((i) => ({ toUserId: i.userId, messageType: i.type, content: i.content, metadata: i.metadata })),
    );
    onStored?.();
    await publish(messages);
    return messages;
  }

  // Typed builders: the content is a plain-text fallback; clients render from metadata.
  const build = {
    followed: (userId: string, follower: PublicUser): NotificationInput<'SYSTEM_FOLLOW'> => ({
      userId,
      type: 'SYSTEM_FOLLOW',
      content: `${follower.displayName} started following you`,
      metadata: { follower },
    }),
    becameFriends: (userId: string, friend: PublicUser): NotificationInput<'SYSTEM_FRIEND'> => ({
      userId,
      type: 'SYSTEM_FRIEND',
      content: `You and ${friend.displayName} are now friends`,
      metadata: { friend },
    }),
    workPurchased: (
      sellerId: string,
      buyer: PublicUser,
      work: { id: string; title: string },
      price: number,
    ): NotificationInput<'SYSTEM_PURCHASE'> => ({
      userId: sellerId,
      type: 'SYSTEM_PURCHASE',
      content: `${buyer.displayName} bought “${work.title}” for ${price} coins`,
      metadata: { buyer, work: { id: work.id, title: work.title }, price },
    }),
    taskCompleted: (userId: string, task: { id: string; title: string }, reward: number): NotificationInput<'SYSTEM_TASK'> => ({
      userId,
      type: 'SYSTEM_TASK',
      content: `Task completed: ${task.title} (+${reward} coins)`,
      metadata: { task: { id: task.id, title: task.title }, reward },
    }),
    achievementUnlocked: (userId: string, achievement: { code: string; title: string }): NotificationInput<'SYSTEM_ACHIEVEMENT'> => ({
      userId,
      type: 'SYSTEM_ACHIEVEMENT',
      content: `Achievement unlocked: ${achievement.title}`,
      metadata: { achievement: { code: achievement.code, title: achievement.title } },
    }),
  };

  const send = (input: NotificationInput) => notify(input.userId, input.type, input.content, input.metadata);

  return {
    store,
    storeMany,
    publish,
    notify,
    notifyMany,
    build,
    followed: (userId: string, follower: PublicUser) => send(build.followed(userId, follower)),
    becameFriends: (userId: string, friend: PublicUser) => send(build.becameFriends(userId, friend)),
    workPurchased: (sellerId: string, buyer: PublicUser, work: { id: string; title: string }, price: number) =>
      send(build.workPurchased(sellerId, buyer, work, price)),
    taskCompleted: (userId: string, task: { id: string; title: string }, reward: number) =>
      send(build.taskCompleted(userId, task, reward)),
    achievementUnlocked: (userId: string, achievement: { code: string; title: string }) =>
      send(build.achievementUnlocked(userId, achievement)),
  };
}
export type NotificationService = ReturnType<typeof createNotificationService>;
