// Memory per idle connection (issue 6): 10,000 connected clients on one node; the node's
// resident memory after a full GC, before and after they connect.
import { connectClients, disconnectAll } from './lib/load.ts';
import { startTarget } from './lib/process.ts';

const N = Number(process.env.BENCH_IDLE ?? 10_000);
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchMemory(log: (s: string) => void) {
  const out: Record<string, unknown> = {};
  for (const kind of ['relay', 'app'] as const) {
    // PGlite in memory, as when the figure below was first taken (the database's size is not per connection).
    const t = await startTarget(kind, { BENCH_USERS: String(N), DATABASE_URL: undefined, REDIS_URL: undefined, BENCH_PGLITE_DIR: 'memory://' });
    try {
      t.child.kill('SIGUSR2'); // the target runs a full GC on SIGUSR2
      await settle(2000);
      const before = t.rss();
      const clients = await connectClients([t.url], t.users, 250);
      await settle(5000); // presence writes and handshakes finish
      t.child.kill('SIGUSR2');
      await settle(3000);
      const after = t.rss();
      const perConn = (after - before) / clients.length;
      log(`${kind}: ${clients.length} idle connections, RSS ${(before / 2 ** 20).toFixed(0)} → ${(after / 2 ** 20).toFixed(0)} MiB, ${(perConn / 1024).toFixed(1)} KiB per connection`);
      out[kind] = { connections: clients.length, rssBeforeMiB: before / 2 ** 20, rssAfterMiB: after / 2 ** 20, perConnectionKiB: perConn / 1024 };
      disconnectAll(clients);
    } finally {
      await t.stop();
    }
  }
  return out;
}
