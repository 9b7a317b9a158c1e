// The demo host's batching of hook work (backend/src/host/batched.ts): a storm of first messages
// costs a few transactions, each caller still learns whether its own key committed.
import { describe, expect, it } from 'vitest';
import { batched, batchedLookup } from '../../backend/src/host/batched.ts';

/** A flush whose batches finish when the test says so. */
function controlled() {
  const batches: string[][] = [];
  const finish: ((err?: Error) => void)[] = [];
  const flush = (keys: string[]) =>
    new Promise<void>((resolve, reject) => {
      batches.push(keys);
      finish.push((err) => (err ? reject(err) : resolve()));
    });
  return { batches, finish, flush };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('batched', () => {
  it('runs the calls of one turn as one batch, and those arriving meanwhile as the next', async () => {
    const c = controlled();
    const call = batched(c.flush);
    const first = [call('a'), call('b'), call('a')];
    await tick();
    expect(c.batches).toEqual([['a', 'b']]);
    const later = [call('c'), call('d')];
    await tick();
    expect(c.batches).toHaveLength(1); // one batch at a time
    c.finish[0]!();
    await Promise.all(first);
    await tick();
    expect(c.batches).toEqual([['a', 'b'], ['c', 'd']]);
    c.finish[1]!();
    await Promise.all(later);
  });

  it('rejects only the callers of a failed batch, and keeps going with the next', async () => {
    const c = controlled();
    const call = batched(c.flush);
    const failing = call('a');
    await tick();
    const next = call('b');
    c.finish[0]!(new Error('serialization failure'));
    await expect(failing).rejects.toThrow('serialization failure');
    await tick();
    expect(c.batches).toEqual([['a'], ['b']]);
    c.finish[1]!();
    await expect(next).resolves.toBeUndefined();
  });

  it('splits a backlog into batches of at most maxBatch', async () => {
    const c = controlled();
    const call = batched(c.flush, 2);
    const all = ['a', 'b', 'c', 'd', 'e'].map((k) => call(k));
    for (let i = 0; i < 3; i++) {
      await tick();
      c.finish[i]!();
      await tick();
    }
    await Promise.all(all);
    expect(c.batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});

describe('batchedLookup', () => {
  it('looks up the keys of one turn in one call, each caller getting its own answer', async () => {
    const loads: string[][] = [];
    const exists = batchedLookup<string, boolean>(async (ids) => {
      loads.push(ids);
      return new Map(ids.filter((id) => id !== 'ghost').map((id) => [id, true]));
    }, false);
    expect(await Promise.all([exists('a'), exists('ghost'), exists('a'), exists('b')])).toEqual([true, false, true, true]);
    expect(loads).toEqual([['a', 'ghost', 'b']]);
  });

  it('rejects the callers of a failed lookup, and answers later ones', async () => {
    let fail = true;
    const exists = batchedLookup<string, boolean>(async (ids) => {
      if (fail) throw new Error('pool timed out');
      return new Map(ids.map((id) => [id, true]));
    }, false);
    await expect(exists('a')).rejects.toThrow('pool timed out');
    fail = false;
    expect(await exists('a')).toBe(true);
  });
});
