// A read-through cache of each user's friend set, so the hot paths (every chat send, every
// typing event) do not ask the database whether two people are friends. Follows and unfollows
// invalidate both users here and, through the bus, on every other node. A short TTL bounds
// staleness should an invalidation between nodes ever be lost (Redis away).
//
// Memory: a node caches the friends of every user who connected lately (presence tells them at
// once), so the lists are part of what an idle connection costs. A list is a sorted array (a
// lookup is a binary search) rather than a Set, whose hash table costs about three times as much
// for 50 ids, and each id is one shared string rather than a copy per list it is in: among users
// online together, the same ids fill many lists. Measured with 6,000 clients of 50 friends each
// (bench/README.md, "Presence at scale"): about 3 KiB less live heap per idle connection.
import type { FriendGraph } from '../ports.ts';

export interface CachedFriendGraph extends FriendGraph {
  friendIdsMany(userIds: string[]): Promise<Map<string, string[]>>;
  invalidate(userIds: string[]): void;
}

/** Whether the sorted array `list` holds `id` (binary search; `<` orders strings as `sort` does). */
export function sortedHas(list: readonly string[], id: string): boolean {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid]!;
    if (v === id) return true;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export function createFriendCache(
  inner: FriendGraph,
  opts: { ttlMs?: number; maxUsers?: number; isDeleted?: (userId: string) => boolean; loadsAtOnce?: number; maxShared?: number } = {},
): CachedFriendGraph {
  const ttlMs = opts.ttlMs ?? 30_000;
  // Users the host deleted lately: any cached set may still hold them (the host drops their
  // friendships without telling us pair by pair), so they are left out of every answer.
  const isDeleted = opts.isDeleted ?? (() => false);
  const maxUsers = opts.maxUsers ?? 50_000;
  const loadsAtOnce = opts.loadsAtOnce ?? 4;
  const entries = new Map<string, { at: number; friends: Promise<readonly string[]> }>();
  // Bumped on invalidation, so a load that started before a change cannot store its stale answer.
  const generation = new Map<string, number>();
  // One string per friend id for all the lists. Bounded: when full it starts over (the lists
  // keep the strings they hold; only later lists stop sharing them with earlier ones).
  const maxShared = opts.maxShared ?? maxUsers * 10;
  let shared = new Map<string, string>();
  function share(id: string): string {
    const one = shared.get(id);
    if (one !== undefined) return one;
    if (shared.size >= maxShared) shared = new Map();
    shared.set(id, id);
    return id;
  }
  /** The ids sorted, each once, in an array of exactly their number (`map` allocates no spare room). */
  function sortedList(ids: readonly string[]): readonly string[] {
    const list = ids.map(share).sort();
    // Without repeats (a host may list a friend twice).
    let n = 0;
    for (let i = 0; i < list.length; i++) if (i === 0 || list[i] !== list[n - 1]) list[n++] = list[i]!;
    return n === list.length ? list : list.slice(0, n);
  }

  function cached(userId: string): Promise<readonly string[]> | null {
    const hit = entries.get(userId);
    return hit && Date.now() - hit.at < ttlMs ? hit.friends : null;
  }

  function friendList(userId: string): Promise<readonly string[]> {
    return cached(userId) ?? keep(userId, inner.friendIds(userId).then(sortedList));
  }

  /** Caches a load that starts now. */
  function keep(userId: string, friends: Promise<readonly string[]>): Promise<readonly string[]> {
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
      return sortedHas(await friendList(a), b);
    },
    async friendIds(userId) {
      return (await friendList(userId)).filter((id) => !isDeleted(id));
    },
    /**
     * Many users' friends: the cached ones as they are, the others in one call of the host's
     * `friendIdsMany`, or without it its `friendIds` per user, at most `loadsAtOnce` at a time.
     */
    async friendIdsMany(userIds) {
      const sets = new Map<string, Promise<readonly string[]>>();
      const missing: string[] = [];
      for (const id of new Set(userIds)) {
        const hit = cached(id);
        if (hit) sets.set(id, hit);
        else missing.push(id);
      }
      if (missing.length > 0 && inner.friendIdsMany) {
        const loading = inner.friendIdsMany(missing);
        for (const id of missing) sets.set(id, keep(id, loading.then((m) => sortedList(m.get(id) ?? []))));
      } else if (missing.length > 0) {
        let next = 0;
        const worker = async () => {
          while (next < missing.length) {
            const id = missing[next++]!;
            const set = friendList(id);
            sets.set(id, set);
            await set.catch(() => {});
          }
        };
        await Promise.all(Array.from({ length: Math.min(loadsAtOnce, missing.length) }, worker));
      }
      const out = new Map<string, string[]>();
      for (const [id, set] of sets) out.set(id, (await set).filter((f) => !isDeleted(f)));
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
