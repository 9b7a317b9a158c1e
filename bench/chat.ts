// Chat throughput, latency and CPU (issues 3, 6 and 15): 1,000 connected clients in friend pairs,
// every message persisted before its ack, beside a bare Socket.IO relay measured in the same run.
// Targets: relay, app on PGlite, app on PostgreSQL, a seed-style baseline (Express + Socket.IO +
// pg, one SELECT and one INSERT per message: bench/targets/seed.ts), and two nodes over Redis.
// Phases per target: cold (every client's first message in one second), latency at fixed rates,
// CPU per delivered message at a fixed rate (the target's node processes and the PostgreSQL
// backends of its database, from /proc: bench/lib/cpu.ts), then the maximum sustained rate.
// After the targets: CPU beside the relay's (ratio), and what the second node adds at p50.
import { connectClients, disconnectAll, findMaxRate, runPhase, type PhaseResult } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable, redisAvailable } from './lib/pg.ts';
import { commOf } from './lib/cpu.ts';
import { measureCpu, waitIdle, type Backing, type CpuResult } from './lib/cpu-phase.ts';

export interface ChatTargetResult {
  target: string;
  clients: number;
  latency: Record<string, PhaseResult>;
  /** Every client's first message within one second, before any warm-up (the demo host unlocks FIRST_MESSAGE for each). */
  cold?: PhaseResult;
  cpu?: CpuResult;
  /**
   * The app targets only: the same CPU phase again with delivered acks on (each client acks what
   * it received as the Vue client does: what arrived within 1 s in one `chat:delivered`), the
   * figure issue 15's CPU goal names. The relay and the seed-style target have no receipts.
   */
  cpuAcks?: CpuResult;
  max: PhaseResult | null;
  phases: PhaseResult[];
  /** Two-node targets: their p50 minus the one-node target's p50 at the same rate, same run. */
  crossNode?: { rate: number; oneNodeP50: number; twoNodeP50: number; addedP50Ms: number };
  note?: string;
}

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
const LATENCY_RATES = (process.env.BENCH_LATENCY_RATES ?? '1000,3000').split(',').map(Number);
const STEPS = (process.env.BENCH_STEPS ?? '2000,4000,6000,8000,10000,12000,16000,20000,24000').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
/** BENCH_COLD=false skips the cold phase (every client's first message in the same second). */
const COLD = process.env.BENCH_COLD !== 'false';
/** The CPU phase: BENCH_CPU_RATE msgs/s for BENCH_CPU_SECONDS (BENCH_CPU_SECONDS=0 skips it). */
const CPU_RATE = Number(process.env.BENCH_CPU_RATE ?? 2000);
const CPU_SECONDS = Number(process.env.BENCH_CPU_SECONDS ?? 10);
/** Only the targets whose name contains one of these ('|'-separated), e.g. `app, PostgreSQL, 2 nodes`. */
const ONLY = (process.env.BENCH_TARGETS ?? '').split('|').map((s) => s.trim()).filter(Boolean);
const picked = (name: string) => ONLY.length === 0 || ONLY.some((s) => name.includes(s));

async function measure(name: string, targets: Target[], backing: Backing, log: (s: string) => void, receipts: boolean): Promise<ChatTargetResult> {
  for (const t of targets) {
    // The spawned pid must be the node process itself (tsx loads in-process), not a wrapper.
    const comm = commOf(t.child.pid!);
    if (comm !== 'node') log(`${name}: warning, target pid ${t.child.pid} is '${comm}', not node: its CPU may be a wrapper's`);
  }
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
    let cpu: CpuResult | undefined;
    let cpuAcks: CpuResult | undefined;
    if (CPU_SECONDS > 0) {
      for (const acks of receipts ? [false, true] : [false]) {
        // The ack path warmed up as the send path was before the first CPU phase (JIT, the
        // statement prepared), as bench/lifecycle.ts does.
        if (acks) await runPhase(clients, 1000, 3, 3000, 'warma', { deliveredAcks: true });
        // A backlog left by the phases before would be charged to this phase's messages.
        const waited = await waitIdle(targets);
        if (waited.ms > 2000) log(`${name}: waited ${(waited.ms / 1000).toFixed(1)} s for the target to go idle${waited.idle ? '' : ' (it did not)'} before the CPU phase`);
        const r = await measureCpu(targets, backing, () => runPhase(clients, CPU_RATE, CPU_SECONDS, 3000, acks ? 'cpua' : 'cpu', { deliveredAcks: acks }));
        log(
          `${name}: CPU at ${r.offeredRate}/s for ${r.seconds} s${acks ? ' with delivered acks' : ''}, ${r.delivered}/${r.sent} delivered: node ${r.nodeUsPerMsg} µs/msg (${r.nodeTicks} ticks), ` +
            `PostgreSQL ${r.pgUsPerMsg} µs/msg (${r.pgTicks} ticks), total ${r.totalUsPerMsg} µs/msg; all postgres processes ${r.pgAllUsPerMsg} µs/msg` +
            (r.redisUsPerMsg !== undefined ? `, redis-server ${r.redisUsPerMsg} µs/msg` : '') +
            (r.delivered < r.sent ? ' (not all delivered within the drain: the target did not keep up, the figure overstates the cost)' : ''),
        );
        if (acks) cpuAcks = r;
        else cpu = r;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    const { max, phases } = await findMaxRate(clients, STEPS, SECONDS, 1000, (r) =>
      log(`${name}: step ${r.offeredRate}/s → ${r.deliveredPerSecond}/s delivered (${r.delivered}/${r.sent}), p99 ${r.p99} ms ${JSON.stringify(r.errors)}`),
    );
    return { target: name, clients: clients.length, latency, cold, cpu, cpuAcks, max, phases };
  } finally {
    disconnectAll(clients);
  }
}

const RELAY = 'relay (no database)';
const RELAY_2 = 'relay, 2 nodes over Redis';
const APP_PG = 'app, PostgreSQL';
const APP_PG_2 = 'app, PostgreSQL, 2 nodes over Redis';

/** CPU beside the relay's, and what the second node adds at p50, from the targets of this run. */
function compare(results: ChatTargetResult[], log: (s: string) => void): void {
  const find = (name: string) => results.find((r) => r.target === name);
  const ratio = (a: number, b: number | undefined) => (b ? Math.round((a / b) * 10) / 10 : undefined);
  const relay = find(RELAY)?.cpu;
  const relay2 = find(RELAY_2)?.cpu;
  for (const r of results) {
    for (const [cpu, how] of [
      [r.cpu, ''],
      [r.cpuAcks, ', delivered acks on'],
    ] as const) {
      if (!cpu) continue;
      if (r.target !== RELAY) cpu.vsRelay = ratio(cpu.totalUsPerMsg, relay?.totalUsPerMsg);
      if (r.target.includes('2 nodes') && r.target !== RELAY_2) cpu.vsRelay2 = ratio(cpu.totalUsPerMsg, relay2?.totalUsPerMsg);
      const beside = [
        cpu.vsRelay !== undefined ? `${cpu.vsRelay}× the relay's ${relay!.totalUsPerMsg} µs/msg` : null,
        cpu.vsRelay2 !== undefined ? `${cpu.vsRelay2}× the 2-node relay's ${relay2!.totalUsPerMsg} µs/msg` : null,
      ].filter(Boolean);
      log(`CPU per delivered message, ${r.target}${how}: node ${cpu.nodeUsPerMsg} + PostgreSQL ${cpu.pgUsPerMsg} = ${cpu.totalUsPerMsg} µs${beside.length ? ` (${beside.join(', ')})` : ''}`);
    }
  }
  for (const [one, two, label] of [
    [RELAY, RELAY_2, 'relay'],
    [APP_PG, APP_PG_2, 'app'],
  ] as const) {
    const a = find(one);
    const b = find(two);
    if (!a || !b) continue;
    const rate = LATENCY_RATES.find((x) => a.latency[x] && b.latency[x]);
    if (rate === undefined) continue;
    const oneNodeP50 = a.latency[rate]!.p50;
    const twoNodeP50 = b.latency[rate]!.p50;
    const addedP50Ms = Math.round((twoNodeP50 - oneNodeP50) * 100) / 100;
    b.crossNode = { rate, oneNodeP50, twoNodeP50, addedP50Ms };
    log(`${label}: cross-node adds ${addedP50Ms} ms at p50 at ${rate.toLocaleString('en-US')}/s (2 nodes ${twoNodeP50} ms − 1 node ${oneNodeP50} ms)`);
  }
}

export async function benchChat(log: (s: string) => void): Promise<ChatTargetResult[]> {
  const results: ChatTargetResult[] = [];
  const env = { BENCH_USERS: String(CLIENTS), CHAT_RATE_LIMIT: '100000', DATABASE_URL: undefined, REDIS_URL: undefined };

  const run = async (name: string, start: () => Promise<Target[]>, backing: Backing = {}, cleanup: () => Promise<void> = async () => {}) => {
    if (!picked(name)) return cleanup();
    const targets = await start();
    try {
      results.push(await measure(name, targets, backing, log, name.startsWith('app')));
    } finally {
      for (const t of targets) await t.stop();
      await cleanup();
    }
  };

  await run(RELAY, async () => [await startTarget('relay', env)]);
  await run('app, PGlite', async () => [await startTarget('app', env)]);
  if (await pgAvailable()) {
    const db = await createBenchDatabase();
    await run(APP_PG, async () => [await startTarget('app', { ...env, DATABASE_URL: db.url })], { db: db.url }, db.drop);
    const seedDb = await createBenchDatabase();
    await run('seed-style (PostgreSQL)', async () => [await startTarget('seed', { ...env, DATABASE_URL: seedDb.url })], { db: seedDb.url }, seedDb.drop);
    const redis = await redisAvailable();
    if (redis) {
      await run(
        RELAY_2,
        async () => [await startTarget('relay', { ...env, REDIS_URL: redis }), await startTarget('relay', { ...env, REDIS_URL: redis })],
        { redis: true },
      );
      const db2 = await createBenchDatabase();
      await run(
        APP_PG_2,
        async () => {
          const first = await startTarget('app', { ...env, DATABASE_URL: db2.url, REDIS_URL: redis });
          const second = await startTarget('app', { ...env, DATABASE_URL: db2.url, REDIS_URL: redis, BENCH_SEED: 'false' });
          return [first, second];
        },
        { db: db2.url, redis: true },
        db2.drop,
      );
    } else log('Redis not reachable: two-node runs skipped');
  } else log('PostgreSQL not reachable: PostgreSQL runs skipped');
  compare(results, log);
  return results;
}
