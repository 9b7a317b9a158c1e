// Presence as users see it: online while any tab is connected (any node), friends told on
// every change, lastSeenAt stored when the last tab closes.
import type { Bus } from './bus.ts';
import type { Presence } from './presence.ts';
import type { FriendGraph } from '../host/follows/service.ts';
import type { UserService } from '../host/users/service.ts';

export function createPresenceService(presence: Presence, bus: Bus, friends: FriendGraph, users: UserService) {
  async function announce(userId: string, online: boolean, lastSeenAt: Date | null) {
    const friendIds = await friends.friendIds(userId);
    bus.emit(friendIds, 'presence:update', { userId, online, lastSeenAt: lastSeenAt?.toISOString() ?? null });
  }

  return {
    async connected(userId: string, socketId: string): Promise<void> {
      if (await presence.connect(userId, socketId)) {
        const now = new Date();
        await users.touchLastSeen(userId, now);
        await announce(userId, true, now);
      }
    },
    async disconnected(userId: string, socketId: string): Promise<void> {
      if (await presence.disconnect(userId, socketId)) {
        const now = new Date();
        await users.touchLastSeen(userId, now);
        await announce(userId, false, now);
      }
    },
    async onlineFriends(userId: string): Promise<string[]> {
      const ids = await friends.friendIds(userId);
      return [...(await presence.onlineAmong(ids))];
    },
    onlineAmong: (ids: string[]) => presence.onlineAmong(ids),
  };
}
export type PresenceService = ReturnType<typeof createPresenceService>;
