// Lookups by key that arrive together share one query: a burst of handshakes asks the database
// once for all of them instead of once each (each query holds a pool connection for a round
// trip, and a pool of 10 queued thousands of them: bench/README.md, presence at scale). Keys
// asked while a query runs wait for the next one, one query at a time; at rest a lookup waits
// for the next turn of the event loop, no longer.
export function createLoader<K, V>(load: (keys: K[]) => Promise<Map<K, V>>, opts: { maxBatch?: number; missing: V }): (key: K) => Promise<V> {
  const maxBatch = opts.maxBatch ?? 500;
  const waiting = new Map<K, { resolve: (v: V) => void; reject: (err: unknown) => void }[]>();
  let running = false;

  async function drain(): Promise<void> {
    try {
      while (waiting.size > 0) {
        const batch = [...waiting].slice(0, maxBatch);
        for (const [key] of batch) waiting.delete(key);
        try {
          const found = await load(batch.map(([key]) => key));
          for (const [key, ws] of batch) for (const w of ws) w.resolve(found.has(key) ? found.get(key)! : opts.missing);
        } catch (err) {
          for (const [, ws] of batch) for (const w of ws) w.reject(err);
        }
      }
    } finally {
      running = false;
    }
  }

  return (key) =>
    new Promise<V>((resolve, reject) => {
      const ws = waiting.get(key);
      if (ws) ws.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
      if (!running) {
        running = true;
        setImmediate(() => void drain());
      }
    });
}
