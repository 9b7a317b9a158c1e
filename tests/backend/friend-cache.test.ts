// The friend cache (backend/src/chat/friendCache.ts) keeps each user's friends as a sorted array
// of shared id strings: every question it answers must be the host's answer, whatever order and
// repeats the host lists friends in, and after its table of shared ids starts over.
import { describe, expect, it } from 'vitest';
import { createFriendCache, sortedHas } from '../../backend/src/chat/friendCache.ts';
import type { FriendGraph } from '../../backend/src/ports.ts';

/** A host graph: `user-i` is friends with the `k` users after it on a ring of `n`, listed in a shuffled order, each twice. */
function ring(n: number, k: number): FriendGraph & { calls: number } {
  const id = (i: number) => `user-${(i + n) % n}`;
  const lists = new Map<string, string[]>();
  for (let i = 0; i < n; i++) {
    const friends: string[] = [];
    for (let d = 1; d <= k; d++) friends.push(id(i + d), id(i - d));
    friends.reverse();
    lists.set(id(i), [...friends, ...friends.slice().sort()]);
  }
  const graph = {
    calls: 0,
    async friendIds(userId: string) {
      graph.calls++;
      return lists.get(userId) ?? [];
    },
    async areFriends(a: string, b: string) {
      return (lists.get(a) ?? []).includes(b);
    },
  };
  return graph;
}

describe('friend cache', () => {
  it('finds every id of a sorted array and no other', () => {
    const ids = Array.from({ length: 101 }, (_, i) => `id-${String(i * 2).padStart(3, '0')}`).sort();
    for (const id of ids) expect(sortedHas(ids, id)).toBe(true);
    for (let i = 0; i < 101; i++) expect(sortedHas(ids, `id-${String(i * 2 + 1).padStart(3, '0')}`)).toBe(false);
    expect(sortedHas([], 'x')).toBe(false);
    expect(sortedHas(['b'], 'a')).toBe(false);
    expect(sortedHas(['b'], 'c')).toBe(false);
    // Ids of any characters: the order is the one `sort` makes.
    const odd = ['Zed', 'ann', 'Ämil', '10', '9', '用户', 'ann-2'].sort();
    for (const id of odd) expect(sortedHas(odd, id)).toBe(true);
    expect(sortedHas(odd, 'bob')).toBe(false);
  });

  it("answers as the host does, each friend once, also after the shared ids' table started over", async () => {
    const host = ring(200, 5);
    // A table of 64 shared ids: it starts over several times while the lists below are loaded.
    const cache = createFriendCache(host, { maxShared: 64 });
    for (let i = 0; i < 200; i++) {
      const me = `user-${i}`;
      const expected = [...new Set(await host.friendIds(me))].sort();
      expect(await cache.friendIds(me)).toEqual(expected);
    }
    const many = await cache.friendIdsMany(['user-3', 'user-150', 'nobody']);
    expect(many.get('user-3')).toEqual([...new Set(await host.friendIds('user-3'))].sort());
    expect(many.get('nobody')).toEqual([]);
    for (let i = 0; i < 200; i += 7) {
      for (let j = 0; j < 200; j += 3) {
        expect(await cache.areFriends(`user-${i}`, `user-${j}`), `${i} ${j}`).toBe(i !== j && (await host.areFriends(`user-${i}`, `user-${j}`)));
      }
    }
  });

  it('loads a list once within the TTL, and again after an invalidation', async () => {
    const host = ring(10, 2);
    const cache = createFriendCache(host);
    await cache.areFriends('user-1', 'user-2');
    await cache.friendIds('user-1');
    expect(host.calls).toBe(1);
    cache.invalidate(['user-1']);
    expect(await cache.areFriends('user-1', 'user-3')).toBe(true);
    expect(host.calls).toBe(2);
  });
});
