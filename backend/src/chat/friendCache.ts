// A read-through cache of each user's friend set, so the hot paths (every chat send, every
// typing event) do not ask the database whether two people are friends. Follows and unfollows
// invalidate both users here and, through the bus, on every other node. A short TTL bounds
// staleness should an invalidation between nodes ever be lost (Redis away).
import type { FriendGraph } from '../ports.ts';

export interface CachedFriendGraph extends FriendGraph {
  friendIdsMany(userIds: string[]): Promise<Map<string, string[]>>;
  invalidate(userIds: string[]): void;
}

export function createFriendCache(
  inner: FriendGraph,
  opts: { ttlMs?: number; maxUsers?: number; isDeleted?: (userId: string) => boolean; loadsAtOnce?: number } = {},
): CachedFriendGraph {
  const ttlMs = opts.ttlMs ?? 30_000;
  // Users the host deleted lately: any cached set may still hold them (the host drops their
  // friendships without telling us pair by pair), so they are left out of every answer.
  const isDeleted = opts.isDeleted ?? (() => false);
  const maxUsers = opts.maxUsers ?? 50_000;
  const loadsAtOnce = opts.loadsAtOnce ?? 4;
  const entries = new Map<string, { at: number; friends: Promise<Set<string>> }>();
  // Bumped on invalidation, so a load that started before a change cannot store its stale answer.
  const generation = new Map<string, number>();

  function cached(userId: string): Promise<Set<string>> | null {
    const hit = entries.get(userId);
    return hit && Date.now() - hit.at < ttlMs ? hit.friends : null;
  }

  function friendSet(userId: string): Promise<Set<string>> {
    return cached(userId) ?? keep(userId, inner.friendIds(userId).then((ids) => new Set(ids)));
  }

  /** Caches a load that starts now. */
  function keep(userId: string, friends: Promise<Set<string>>): Promise<Set<string>> {
    const gen = generation.get(userId) ?? 0;
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
    /**
     * Many users' friends: the cached ones as they are, the others in one call of the host's
     * `friendIdsMany`, or without it its `friendIds` per user, at most `loadsAtOnce` at a time.
     */
    async friendIdsMany(userIds) {
      const sets = new Map<string, Promise<Set<string>>>();
      const missing: string[] = [];
      for (const id of new Set(userIds)) {
        const hit = cached(id);
        if (hit) sets.set(id, hit);
        else missing.push(id);
      }
      if (missing.length > 0 && inner.friendIdsMany) {
        const loading = inner.friendIdsMany(missing);
        for (const id of missing) sets.set(id, keep(id, loading.then((m) => new Set(m.get(id) ?? []))));
      } else if (missing.length > 0) {
        let next = 0;
        const worker = async () => {
          while (next < missing.length) {
            const id = missing[next++]!;
            const set = friendSet(id);
            sets.set(id, set);
            await set.catch(() => {});
          }
        };
        await Promise.all(Array.from({ length: Math.min(loadsAtOnce, missing.length) }, worker));
      }
      const out = new Map<string, string[]>();
      for (const [id, set] of sets) out.set(id, [...(await set)].filter((f) => !isDeleted(f)));
      return out;
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
