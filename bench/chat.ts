// Chat throughput and latency (issues 3 and 6): 1,000 connected clients in friend pairs,
// every message persisted before its ack, beside a bare Socket.IO relay measured in the
// same run. Targets: relay, app on PGlite, app on PostgreSQL, and two nodes over Redis.
import { connectClients, disconnectAll, findMaxRate, runPhase, type PhaseResult } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable, redisAvailable } from './lib/pg.ts';

export interface ChatTargetResult {
  target: string;
  clients: number;
  latency: Record<string, PhaseResult>;
  /** Every client's first message within one second, before any warm-up (the demo host unlocks FIRST_MESSAGE for each). */
  cold?: PhaseResult;
  max: PhaseResult | null;
  phases: PhaseResult[];
  note?: string;
}

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,3000').split(',').map(Number);
const STEPS = (process.env.BENCH_STEPS ?? '2000,4000,6000,8000,10000,12000,16000,20000,24000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** BENCH_COLD=false skips the cold phase (every client's first message in the same second). */
const COLD = process.env.BENCH_COLD !== 'false';
/** Only the targets whose name contains one of these ('|'-separated), e.g. `app, PostgreSQL, 2 nodes`. */
const ONLY = (process.env.BENCH_TARGETS ?? '').split('|').map((s) => s.trim()).filter(Boolean);
const picked = (name: string) => ONLY.length === 0 || ONLY.some((s) => name.includes(s));

async function measure(name: string, targets: Target[], log: (s: string) => void): Promise<ChatTargetResult> {
  const users = targets[0]!.users.slice(0, CLIENTS);
  const clients = await connectClients(
    targets.map((t) => t.url),
    users,
  );
  try {
    // Cold start: each client sends its first message, all within one second, on a node that has
    // just started (the demo host's first-message achievement runs for every one of them).
    let cold: PhaseResult | undefined;
    if (COLD) {
      cold = await runPhase(clients, clients.length - (clients.length % 2), 1, 10_000, 'cold');
      log(`${name}: cold, ${cold.sent} first messages in 1 s → ${cold.delivered}/${cold.sent} delivered, p50 ${cold.p50} ms, p99 ${cold.p99} ms, max ${cold.max} ms; ack p50 ${cold.ackP50} ms, p99 ${cold.ackP99} ms ${JSON.stringify(cold.errors)}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
    await runPhase(clients, 500, 2, 2000, 'warm'); // warm-up: JIT, connection pools, caches
    const latency: Record<string, PhaseResult> = {};
    for (const rate of LATENCY_RATES) {
      latency[rate] = await runPhase(clients, rate, SECONDS, 3000, `l${rate}`);
      const r = latency[rate];
      log(`${name}: ${rate}/s offered → ${r.delivered}/${r.sent} delivered, p50 ${r.p50} ms, p99 ${r.p99} ms`);
    }
    const { max, phases } = await findMaxRate(clients, STEPS, SECONDS, 1000, (r) =>
      log(`${name}: step ${r.offeredRate}/s → ${r.deliveredPerSecond}/s delivered (${r.delivered}/${r.sent}), p99 ${r.p99} ms ${JSON.stringify(r.errors)}`),
    );
    return { target: name, clients: clients.length, latency, cold, max, phases };
  } finally {
    disconnectAll(clients);
  }
}

export async function benchChat(log: (s: string) => void): Promise<ChatTargetResult[]> {
  const results: ChatTargetResult[] = [];
  const env = { BENCH_USERS: String(CLIENTS), CHAT_RATE_LIMIT: '100000', DATABASE_URL: undefined, REDIS_URL: undefined };

  const run = async (name: string, start: () => Promise<Target[]>, cleanup: () => Promise<void> = async () => {}) => {
    if (!picked(name)) return cleanup();
    const targets = await start();
    try {
      results.push(await measure(name, targets, log));
    } finally {
      for (const t of targets) await t.stop();
      await cleanup();
    }
  };

  await run('relay (no database)', async () => [await startTarget('relay', env)]);
  await run('app, PGlite', async () => [await startTarget('app', env)]);
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    await run('app, PostgreSQL', async () => [await startTarget('app', { ...env, DATABASE_URL: db.url })], db.drop);
    const redis = await redisAvailable();
    if (redis) {
      await run('relay, 2 nodes over Redis', async () => [
        await startTarget('relay', { ...env, REDIS_URL: redis }),
        await startTarget('relay', { ...env, REDIS_URL: redis }),
      ]);
      const db2 = await createBenchDatabase();
      await run(
        'app, PostgreSQL, 2 nodes over Redis',
        async () => {
          const first = await startTarget('app', { ...env, DATABASE_URL: db2.url, REDIS_URL: redis });
          const second = await startTarget('app', { ...env, DATABASE_URL: db2.url, REDIS_URL: redis, BENCH_SEED: 'false' });
          return [first, second];
        },
        db2.drop,
      );
    } else log('Redis not reachable: two-node runs skipped');
  } else log('PostgreSQL not reachable: PostgreSQL runs skipped');
  return results;
}
