// notifyMany to 10,000 users on PostgreSQL (issue 4): time to store the batch, and time until
// every online recipient (1,000 connected clients) has it. The node runs in its own process;
// the batch is triggered over a bench-only HTTP hook the target exposes.
import { connectClients, disconnectAll } from './lib/load.ts';
import { startTarget } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

const USERS = 10_000;
const ONLINE = 1_000;

export async function benchNotify(log: (s: string) => void) {
  const out: Record<string, unknown> = {};
  const targets: [string, string | undefined, (() => Promise<void>) | null][] = [['PGlite', undefined, null]];
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    targets.push(['PostgreSQL', db.url, db.drop]);
  }
  for (const [name, url, drop] of targets) {
    const t = await startTarget('app', { BENCH_USERS: String(USERS), DATABASE_URL: url, REDIS_URL: undefined, BENCH_HOOKS: '1' });
    try {
      const clients = await connectClients([t.url], t.users.slice(0, ONLINE), 250);
      const runs = [];
      for (let run = 0; run < 3; run++) {
        let got = 0;
        const allIn = new Promise<number>((resolve) => {
          for (const c of clients) {
            c.socket.once('notification:new', () => {
              if (++got === clients.length) resolve(performance.now());
            });
          }
        });
        const start = performance.now();
        const res = await fetch(`${t.hooks}/notify-many`, { method: 'POST' });
        const { storeMs, count } = (await res.json()) as { storeMs: number; count: number };
        const done = await Promise.race([allIn, new Promise<number>((r) => setTimeout(() => r(NaN), 60_000))]);
        const r = { stored: count, storeMs: Math.round(storeMs), allOnlineReceivedMs: Math.round(done - start) };
        log(`${name}: notifyMany to ${count} users: stored in ${r.storeMs} ms, all ${clients.length} online recipients had it after ${r.allOnlineReceivedMs} ms`);
        runs.push(r);
      }
      out[name] = runs;
      disconnectAll(clients);
    } finally {
      await t.stop();
      await drop?.();
    }
  }
  return out;
}
