// Message lifecycle (issue 14): (1) what delivered acks cost the chat: 1,000 clients at
// 3,000 msgs/s, phases with and without acks alternated in the same run (off, on, off, on, …),
// each client acknowledging what it receives as the Vue client does (`chat:delivered`, the ids of
// 150 ms in one batch); goal: p99 with acks within 20% of p99 without. (2) A sync that carries
// 1,000 changes: a client away while its friend sent it 1,000 messages, edited 400 of them and
// reacted to 300, and another tab of its own read them all; the time from the first `chat:sync`
// from its old cursor to the last page (pages of 100); goal under 100 ms.
import { connectClients, disconnectAll, runPhase, type Client, type PhaseResult } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const RATE = Number(process.env.BENCH_LIFECYCLE_RATE ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_LIFECYCLE_ROUNDS ?? 3);
const CHANGES = 1000;
const SYNC_RUNS = 5;

type Ack = { ok: boolean; error?: { code: string }; [k: string]: unknown };
const call = (c: Client, event: string, payload: unknown) =>
  new Promise<Ack>((resolve) => c.socket.timeout(30_000).emit(event, payload, (err: unknown, res: Ack) => resolve(err ? { ok: false, error: { code: 'TIMEOUT' } } : res)));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number) => Math.round(n * 10) / 10;

interface SyncResult {
  changes: number;
  pages: number;
  runsMs: number[];
  p50Ms: number;
}

/** Reads every page from `after` to the end; answers the pages read and the messages. */
async function syncAll(c: Client, after: string | undefined): Promise<{ pages: number; messages: number; cursor: string }> {
  let cursor = after;
  let pages = 0;
  let messages = 0;
  for (;;) {
    const res = await call(c, 'chat:sync', { after: cursor, limit: 100 });
    if (!res.ok) throw new Error(`chat:sync: ${res.error?.code}`);
    pages++;
    messages += (res.messages as unknown[]).length;
    cursor = res.nextCursor as string;
    if (!res.hasMore) return { pages, messages, cursor };
  }
}

async function measureSync(target: Target, log: (s: string) => void): Promise<SyncResult> {
  // Two friends past the chat load's pairs, with a second tab for the reader.
  const [sender, away, reader] = await connectClients([target.url], [target.users[CLIENTS]!, target.users[CLIENTS + 1]!, target.users[CLIENTS + 1]!]);
  try {
    const runsMs: number[] = [];
    let pages = 0;
    let changes = 0;
    for (let run = 0; run < SYNC_RUNS; run++) {
      const { cursor } = await syncAll(away!, undefined);
      away!.socket.disconnect();
      const ids: string[] = [];
      for (let i = 0; i < CHANGES; i += 50) {
        const acks = await Promise.all(
          Array.from({ length: 50 }, (_, j) => call(sender!, 'chat:send', { to: away!.id, content: `run ${run} message ${i + j}`, clientId: `sync-${run}-${i + j}` })),
        );
        for (const a of acks) if (a.ok) ids.push((a.message as { id: string }).id);
      }
      for (let i = 0; i < 400; i += 50) {
        await Promise.all(ids.slice(i, i + 50).map((id, j) => call(sender!, 'chat:edit', { messageId: id, content: `edited ${i + j}` })));
      }
      for (let i = 400; i < 700; i += 50) {
        await Promise.all(ids.slice(i, i + 50).map((id) => call(reader!, 'chat:react', { messageId: id, emoji: '👍', on: true })));
      }
      const read = await call(reader!, 'chat:read', { peerId: sender!.id });
      if (!read.ok) throw new Error(`chat:read: ${read.error?.code}`);
      away!.socket.connect();
      await new Promise<void>((resolve) => (away!.socket.connected ? resolve() : away!.socket.once('connect', () => resolve())));
      const t0 = performance.now();
      const r = await syncAll(away!, cursor);
      runsMs.push(round(performance.now() - t0));
      pages = r.pages;
      changes = r.messages;
      log(`sync: ${r.messages} changed messages in ${r.pages} pages, ${runsMs.at(-1)} ms`);
    }
    return { changes, pages, runsMs, p50Ms: median(runsMs) };
  } finally {
    disconnectAll([sender!, away!, reader!]);
  }
}

async function measure(name: string, target: Target, log: (s: string) => void) {
  const clients = await connectClients([target.url], target.users.slice(0, CLIENTS));
  const off: PhaseResult[] = [];
  const on: PhaseResult[] = [];
  try {
    await runPhase(clients, 500, 2, 2000, 'warm');
    await runPhase(clients, 500, 2, 2000, 'warm2', { deliveredAcks: true });
    for (let i = 0; i < ROUNDS; i++) {
      for (const acks of [false, true]) {
        const r = await runPhase(clients, RATE, SECONDS, 3000, `l${i}${acks ? 'a' : 'n'}`, { deliveredAcks: acks });
        (acks ? on : off).push(r);
        log(`${name}: ${RATE}/s, acks ${acks ? 'on ' : 'off'} → ${r.delivered}/${r.sent} delivered, p50 ${r.p50} ms, p99 ${r.p99} ms ${JSON.stringify(r.errors)}`);
      }
    }
  } finally {
    disconnectAll(clients);
  }
  const sync = await measureSync(target, log);
  const p99Off = median(off.map((r) => r.p99));
  const p99On = median(on.map((r) => r.p99));
  return {
    target: name,
    clients: clients.length,
    rate: RATE,
    off,
    on,
    medianP50: { off: median(off.map((r) => r.p50)), on: median(on.map((r) => r.p50)) },
    medianP99: { off: p99Off, on: p99On },
    p99Ratio: round((p99On / p99Off) * 100) / 100,
    sync,
  };
}

export async function benchLifecycle(log: (s: string) => void) {
  const results = [];
  const env = { BENCH_USERS: String(CLIENTS + 2), CHAT_RATE_LIMIT: '100000', DATABASE_URL: undefined, REDIS_URL: undefined };
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    const target = await startTarget('app', { ...env, DATABASE_URL: db.url });
    try {
      results.push(await measure('app, PostgreSQL', target, log));
    } finally {
      await target.stop();
      await db.drop();
    }
  } else log('PostgreSQL not reachable: PostgreSQL run skipped');
  const target = await startTarget('app', env);
  try {
    results.push(await measure('app, PGlite', target, log));
  } finally {
    await target.stop();
  }
  return results;
}
