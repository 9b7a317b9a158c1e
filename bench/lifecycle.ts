// Message lifecycle (issue 14): (1) what delivered acks cost the chat: 1,000 clients at
// 3,000 msgs/s, phases with and without acks alternated in the same run (off, on, off, on, …),
// each client acknowledging what it receives as the Vue client does (`chat:delivered`, the ids of
// DELIVERED_FLUSH_MS in one batch, frontend/src/friend-chat/deliveryBatch.ts; BENCH_ACK_WINDOW_MS
// overrides it); goal: p99 with acks within 20% of p99 without. (2) The sync of 1,000
// changes (issue 14's other goal): a user's whole catch-up after a cursor, at the service and
// over HTTP (bench/lib/sync-changes.ts). BENCH_LIFECYCLE_PHASES picks them (default `acks,sync`).
// Each phase of (1) starts once the target is idle again (a backlog left by the phase before would
// spoil it), and its CPU per delivered message is measured (node and PostgreSQL, as in chat.ts).
// Where the PostgreSQL server runs without autovacuum (as on the machines used so far), every
// receipt's dead row version stays and the receipts of later rounds get dearer; with
// BENCH_LIFECYCLE_VACUUM=1 the bench vacuums `Message` before each phase instead, as autovacuum
// would between them, and reports what that VACUUM took.
import { connectClients, disconnectAll, runPhase, type PhaseResult } from './lib/load.ts';
import { measureCpu, waitIdle, type Backing, type CpuResult } from './lib/cpu-phase.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable } from './lib/pg.ts';
import { benchSyncChanges } from './lib/sync-changes.ts';
import pg from 'pg';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const ACK_WINDOW_MS = process.env.BENCH_ACK_WINDOW_MS ? Number(process.env.BENCH_ACK_WINDOW_MS) : undefined;
const RATE = Number(process.env.BENCH_LIFECYCLE_RATE ?? 3000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_LIFECYCLE_ROUNDS ?? 3);
const PHASES = (process.env.BENCH_LIFECYCLE_PHASES ?? 'acks,sync').split(',');
const VACUUM = process.env.BENCH_LIFECYCLE_VACUUM === '1';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (n: number) => Math.round(n * 10) / 10;

/** VACUUM of the module's `Message` table on the bench database: how long it took, and the dead rows it found. */
async function vacuumMessages(url: string): Promise<{ ms: number; deadBefore: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const dead = await c.query<{ n: string }>(`SELECT n_dead_tup AS n FROM pg_stat_user_tables WHERE schemaname = 'friendchat' AND relname = 'Message'`);
    const t0 = performance.now();
    await c.query('VACUUM friendchat."Message"');
    return { ms: Math.round(performance.now() - t0), deadBefore: Number(dead.rows[0]?.n ?? 0) };
  } finally {
    await c.end();
  }
}

async function measure(name: string, target: Target, backing: Backing, log: (s: string) => void) {
  const clients = await connectClients([target.url], target.users.slice(0, CLIENTS));
  const off: (PhaseResult & { cpu: CpuResult; waitedMs: number; vacuum?: { ms: number; deadBefore: number } })[] = [];
  const on: typeof off = [];
  try {
    // Warm-up: every client's first message (the demo's achievement for it runs then), JIT, pools;
    // then a pause for that backlog to clear.
    await runPhase(clients, 500, 4, 5000, 'warm');
    await runPhase(clients, 1000, 3, 5000, 'warm2', { deliveredAcks: true });
    await new Promise((r) => setTimeout(r, 5000));
    for (let i = 0; i < ROUNDS; i++) {
      for (const acks of [false, true]) {
        const vacuum = VACUUM && backing.db ? await vacuumMessages(backing.db) : undefined;
        const waited = await waitIdle([target]);
        let r: PhaseResult | undefined;
        const cpu = await measureCpu([target], backing, async () => {
          r = await runPhase(clients, RATE, SECONDS, 3000, `l${i}${acks ? 'a' : 'n'}`, { deliveredAcks: acks, ackWindowMs: ACK_WINDOW_MS });
          return r;
        });
        (acks ? on : off).push({ ...r!, cpu, waitedMs: Math.round(waited.ms), ...(vacuum ? { vacuum } : {}) });
        log(
          `${name}: ${RATE}/s, acks ${acks ? 'on ' : 'off'} → ${r!.delivered}/${r!.sent} delivered, p50 ${r!.p50} ms, p99 ${r!.p99} ms; ` +
            `CPU node ${cpu.nodeUsPerMsg} + PostgreSQL ${cpu.pgUsPerMsg} µs/msg (after ${(waited.ms / 1000).toFixed(1)} s${waited.idle ? '' : ', not idle'}` +
            `${vacuum ? `; VACUUM before it ${vacuum.ms} ms, ${vacuum.deadBefore} dead rows` : ''}) ${JSON.stringify(r!.errors)}`,
        );
      }
    }
  } finally {
    disconnectAll(clients);
  }
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
    medianCpuUsPerMsg: {
      off: { node: median(off.map((r) => r.cpu.nodeUsPerMsg)), pg: median(off.map((r) => r.cpu.pgUsPerMsg)) },
      on: { node: median(on.map((r) => r.cpu.nodeUsPerMsg)), pg: median(on.map((r) => r.cpu.pgUsPerMsg)) },
    },
  };
}

export async function benchLifecycle(log: (s: string) => void) {
  const acks = PHASES.includes('acks') ? await benchAcks(log) : null;
  const sync = PHASES.includes('sync') ? await benchSyncChanges(log) : null;
  return { acks, sync };
}

async function benchAcks(log: (s: string) => void) {
  const results = [];
  const env = { BENCH_USERS: String(CLIENTS), CHAT_RATE_LIMIT: '100000', DATABASE_URL: undefined, REDIS_URL: undefined };
  if (process.env.BENCH_LIFECYCLE_POSTGRES === 'false') log('PostgreSQL run skipped (BENCH_LIFECYCLE_POSTGRES=false)');
  else if (await pgAvailable()) {
    const db = await createBenchDatabase();
    const target = await startTarget('app', { ...env, DATABASE_URL: db.url });
    try {
      results.push(await measure('app, PostgreSQL', target, { db: db.url }, log));
    } finally {
      await target.stop();
      await db.drop();
    }
  } else log('PostgreSQL not reachable: PostgreSQL run skipped');
  if (process.env.BENCH_LIFECYCLE_PGLITE === 'false') return results;
  const target = await startTarget('app', env);
  try {
    results.push(await measure('app, PGlite', target, {}, log));
  } finally {
    await target.stop();
  }
  return results;
}
