// CPU per delivered message over one phase of load, and waiting for a target to go idle before
// one (a backlog left by the phase before would be charged to it). Used by the chat and
// lifecycle benchmarks.
import pg from 'pg';
import type { PhaseResult } from './load.ts';
import type { Target } from './process.ts';
import { PG_URL } from './pg.ts';
import { CLK_TCK, cpuMeter, pidsByComm, processTree } from './cpu.ts';

export interface CpuResult {
  offeredRate: number;
  seconds: number;
  sent: number;
  delivered: number;
  clkTck: number;
  /** utime + stime ticks of the target's node processes (and their children) over the phase. */
  nodeTicks: number;
  /** Ticks of the PostgreSQL backends connected to the target's database (0 without one). */
  pgTicks: number;
  /** Ticks of every `postgres` process on the machine (other databases' work included). */
  pgAllTicks: number;
  /** Ticks of every `redis-server` process (two-node targets only). */
  redisTicks?: number;
  /** CPU per delivered message, in µs. */
  nodeUsPerMsg: number;
  pgUsPerMsg: number;
  /** node + PostgreSQL backends of the target's database. */
  totalUsPerMsg: number;
  pgAllUsPerMsg: number;
  redisUsPerMsg?: number;
  /** totalUsPerMsg ÷ the one-node relay's (same run). */
  vsRelay?: number;
  /** totalUsPerMsg ÷ the two-node relay's (same run, two-node targets). */
  vsRelay2?: number;
}

/** What a target runs on besides its node processes. */
export interface Backing {
  /** Its PostgreSQL database (URL), if any. */
  db?: string;
  redis?: boolean;
}

/**
 * CPU per delivered message at a fixed rate. Node: every target process with its descendants
 * (tsx's esbuild service, the image worker). PostgreSQL: the backends whose pg_stat_activity
 * `datname` is the target's database, listed every 250 ms by a client connected to another
 * database (so not counted), a backend that comes or goes during the phase counted for the part
 * it was seen; shared background processes (WAL writer, checkpointer) are not in that figure but
 * in `pgAll`: every `postgres` process on the machine, which on a shared machine includes other
 * databases' work (read it as an upper bound; on an idle machine the two are close).
 */
export async function measureCpu(targets: Target[], backing: Backing, run: () => Promise<PhaseResult>): Promise<CpuResult> {
  const dbName = backing.db ? decodeURIComponent(new URL(backing.db).pathname.slice(1)) : null;
  let admin: pg.Client | null = null;
  if (dbName) {
    const url = new URL(PG_URL);
    url.pathname = '/postgres';
    admin = new pg.Client({ connectionString: url.toString() });
    await admin.connect();
  }
  try {
    const nodeMeter = cpuMeter(() => targets.flatMap((t) => processTree(t.child.pid!)));
    const pgMeter = cpuMeter(async () =>
      admin ? (await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [dbName])).rows.map((r) => r.pid) : [],
    );
    const pgAllMeter = cpuMeter(() => pidsByComm('postgres'));
    const redisMeter = backing.redis ? cpuMeter(() => pidsByComm('redis-server')) : null;
    const r = await run();
    await new Promise((res) => setTimeout(res, 300)); // work finishing after the last delivery
    const [node, pgDb, pgAll, redis] = await Promise.all([nodeMeter.stop(), pgMeter.stop(), pgAllMeter.stop(), redisMeter?.stop()]);
    const us = (ticks: number) => Math.round(((ticks / CLK_TCK) * 1e6 * 10) / Math.max(1, r.delivered)) / 10;
    return {
      offeredRate: r.offeredRate,
      seconds: r.seconds,
      sent: r.sent,
      delivered: r.delivered,
      clkTck: CLK_TCK,
      nodeTicks: node.ticks,
      pgTicks: pgDb.ticks,
      pgAllTicks: pgAll.ticks,
      nodeUsPerMsg: us(node.ticks),
      pgUsPerMsg: us(pgDb.ticks),
      totalUsPerMsg: us(node.ticks + pgDb.ticks),
      pgAllUsPerMsg: us(pgAll.ticks),
      ...(redis ? { redisTicks: redis.ticks, redisUsPerMsg: us(redis.ticks) } : {}),
    };
  } finally {
    await admin?.end();
  }
}

/** Waits (up to `maxMs`) until the targets' node processes use under 5% of a core over 500 ms. */
export async function waitIdle(targets: Target[], maxMs = 20_000): Promise<{ ms: number; idle: boolean }> {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 1000));
  while (performance.now() - t0 < maxMs) {
    const meter = cpuMeter(() => targets.flatMap((t) => processTree(t.child.pid!)), 1000);
    await new Promise((r) => setTimeout(r, 500));
    const { ticks } = await meter.stop();
    if (ticks <= 0.05 * 0.5 * CLK_TCK * targets.length) return { ms: performance.now() - t0, idle: true };
  }
  return { ms: performance.now() - t0, idle: false };
}

