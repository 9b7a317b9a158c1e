// A read-through cache of each user's friend set, so the hot paths (every chat send, every
// typing event) do not ask the database whether two people are friends. Follows and unfollows
// invalidate both users here and, through the bus, on every other node. A short TTL bounds
// staleness should an invalidation between nodes ever be lost (Redis away).
import type { FriendGraph } from '../ports.ts';

export interface CachedFriendGraph extends FriendGraph {
  invalidate(userIds: string[]): void;
}

export function createFriendCache(
  inner: FriendGraph,
  opts: { ttlMs?: number; maxUsers?: number; isDeleted?: (userId: string) => boolean } = {},
): CachedFriendGraph {
  const ttlMs = opts.ttlMs ?? 30_000;
  // Users the host deleted lately: any cached set may still hold them (the host drops their
  // friendships without telling us pair by pair), so they are left out of every answer.
  const isDeleted = opts.isDeleted ?? (() => false);
  const maxUsers = opts.maxUsers ?? 50_000;
  const entries = new Map<string, { at: number; friends: Promise<Set<string>> }>();
  // Bumped on invalidation, so a load that started before a change cannot store its stale answer.
  const generation = new Map<string, number>();

  function friendSet(userId: string): Promise<Set<string>> {
    const hit = entries.get(userId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.friends;
    const gen = generation.get(userId) ?? 0;
    const friends = inner.friendIds(userId).then((ids) => new Set(ids));
    if (entries.size >= maxUsers) entries.delete(entries.keys().next().value!);
    entries.set(userId, { at: Date.now(), friends });
    friends.then(
      () => {
        if ((generation.get(userId) ?? 0) !== gen) entries.delete(userId);
      },
      () => entries.delete(userId),
    );
    return friends;
  }

  return {
    async areFriends(a, b) {
      if (a === b || isDeleted(a) || isDeleted(b)) return false;
      return (await friendSet(a)).has(b);
    },
    async friendIds(userId) {
      return [...(await friendSet(userId))].filter((id) => !isDeleted(id));
    },
    invalidate(userIds) {
      for (const id of userIds) {
        entries.delete(id);
        generation.set(id, (generation.get(id) ?? 0) + 1);
      }
      if (generation.size > maxUsers) generation.clear();
    },
  };
}
