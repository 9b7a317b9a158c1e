// The friends list as the chat shows it: the host's friends (port), their public fields (port),
// online state, lastSeenAt and unread counts (the module's own).
import type { FriendEntry } from '../realtime/events.ts';
import type { FriendGraph, UserDirectory } from '../ports.ts';
import type { LastSeenStore, PresenceService } from '../realtime/presenceService.ts';
import type { UnreadService } from './unread.ts';
import { toChatUser } from './service.ts';

export function createFriendList(deps: {
  friends: FriendGraph;
  users: UserDirectory;
  presence: PresenceService;
  lastSeen: LastSeenStore;
  unread: UnreadService;
}) {
  return {
    /** Sorted by display name. */
    async of(me: string): Promise<FriendEntry[]> {
      const ids = await deps.friends.friendIds(me);
      if (ids.length === 0) return [];
      const [users, online, seen, counts] = await Promise.all([
        deps.users.byIds(ids),
        deps.presence.onlineAmong(ids),
        deps.lastSeen.of(ids),
        deps.unread.counts(me),
      ]);
      return users
        .map(toChatUser)
        .sort((a, b) => a.displayName.localeCompare(b.displayName))
        .map((user) => ({
          user,
          online: online.has(user.id),
          lastSeenAt: seen.get(user.id)?.toISOString() ?? null,
          unread: counts.byPeer[user.id] ?? 0,
        }));
    },
  };
}
export type FriendList = ReturnType<typeof createFriendList>;
