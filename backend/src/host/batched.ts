// Calls that arrive while a batch is running join the next one: `flush` runs for many keys at a
// time (one transaction for a storm of first messages instead of one each), one batch at a time.
// Each call resolves once the batch holding its key committed, or rejects with that batch's error.
// At rest a batch is one key and starts on the next turn of the event loop.
export function batched<K>(flush: (keys: K[]) => Promise<void>, maxBatch = 500): (key: K) => Promise<void> {
  const pending = new Map<K, { resolve: () => void; reject: (err: unknown) => void }[]>();
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    try {
      while (pending.size > 0) {
        const batch = [...pending].slice(0, maxBatch);
        for (const [key] of batch) pending.delete(key);
        try {
          await flush(batch.map(([key]) => key));
          for (const [, waiters] of batch) for (const w of waiters) w.resolve();
        } catch (err) {
          for (const [, waiters] of batch) for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  return (key) =>
    new Promise<void>((resolve, reject) => {
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
}

/**
 * The same for lookups: keys asked together are looked up in one query (`load` answers what it
 * found; a key it leaves out gets `missing`). A burst of socket handshakes checks its users with
 * one query instead of one each, which queued for the pool (bench/README.md, presence at scale).
 */
export function batchedLookup<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, missing: V, maxBatch = 500): (key: K) => Promise<V> {
  const pending = new Map<K, { resolve: (v: V) => void; reject: (err: unknown) => void }[]>();
  let running = false;

  async function drain(): Promise<void> {
    try {
      while (pending.size > 0) {
        const batch = [...pending].slice(0, maxBatch);
        for (const [key] of batch) pending.delete(key);
        try {
          const found = await load(batch.map(([key]) => key));
          for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.has(key) ? found.get(key)! : missing);
        } catch (err) {
          for (const [, waiters] of batch) for (const w of waiters) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  return (key) =>
    new Promise<V>((resolve, reject) => {
      const waiters = pending.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else pending.set(key, [{ resolve, reject }]);
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
}
