// The demo's notifications, written as drafts for the chat module: the five built-in system
// types with their typed metadata. The content is a plain-text fallback; clients render from
// metadata.
import type { BuiltInNotificationDraft, ChatUser, FriendChat } from 'friend-chat/server';

export interface HostNotification {
  userId: string;
  draft: BuiltInNotificationDraft;
}

export const build = {
  followed: (userId: string, follower: ChatUser): HostNotification => ({
    userId,
    draft: { type: 'SYSTEM_FOLLOW', content: `${follower.displayName} started following you`, metadata: { follower } },
  }),
  becameFriends: (userId: string, friend: ChatUser): HostNotification => ({
    userId,
    draft: { type: 'SYSTEM_FRIEND', content: `You and ${friend.displayName} are now friends`, metadata: { friend } },
  }),
  workPurchased: (sellerId: string, buyer: ChatUser, work: { id: string; title: string }, price: number): HostNotification => ({
    userId: sellerId,
    draft: {
      type: 'SYSTEM_PURCHASE',
      content: `${buyer.displayName} bought “${work.title}” for ${price} coins`,
      metadata: { buyer, work: { id: work.id, title: work.title }, price },
    },
  }),
  taskCompleted: (userId: string, task: { id: string; title: string }, reward: number): HostNotification => ({
    userId,
    draft: { type: 'SYSTEM_TASK', content: `Task completed: ${task.title} (+${reward} coins)`, metadata: { task: { id: task.id, title: task.title }, reward } },
  }),
  achievementUnlocked: (userId: string, achievement: { code: string; title: string }): HostNotification => ({
    userId,
    draft: {
      type: 'SYSTEM_ACHIEVEMENT',
      content: `Achievement unlocked: ${achievement.title}`,
      metadata: { achievement: { code: achievement.code, title: achievement.title } },
    },
  }),
};

/** The demo's notification calls over the module (its routes and tests use these). */
export function createHostNotifications(chat: FriendChat) {
  const send = (n: HostNotification) => chat.notify(n.userId, n.draft);
  return {
    build,
    /** Each (user, draft) in one go; drafts may differ per user. */
    notifyMany: (items: HostNotification[]) => chat.notifyEach(items),
    followed: (userId: string, follower: ChatUser) => send(build.followed(userId, follower)),
    becameFriends: (userId: string, friend: ChatUser) => send(build.becameFriends(userId, friend)),
    workPurchased: (sellerId: string, buyer: ChatUser, work: { id: string; title: string }, price: number) =>
      send(build.workPurchased(sellerId, buyer, work, price)),
    taskCompleted: (userId: string, task: { id: string; title: string }, reward: number) => send(build.taskCompleted(userId, task, reward)),
    achievementUnlocked: (userId: string, achievement: { code: string; title: string }) => send(build.achievementUnlocked(userId, achievement)),
  };
}
export type HostNotifications = ReturnType<typeof createHostNotifications>;
