// Reliability under load (issue 15): two app nodes on PostgreSQL + Redis, clients spread over
// both (every friend pair across the two nodes), messages offered at BENCH_FAULT_RATE (80% of the
// app's maximum), and one fault in the middle of each run:
//   node-kill      SIGKILL one node; its clients fail over to the other node and sync;
//   pg-restart     PostgreSQL stopped (fast) and started again BENCH_PG_DOWN_MS later;
//   redis-flush    FLUSHALL on Redis;
//   redis-restart  Redis killed and started again (empty) BENCH_REDIS_DOWN_MS later.
// PostgreSQL and Redis are private servers started for the run (bench/lib/private-servers.ts),
// never the machine's; without the PostgreSQL binaries the PostgreSQL fault is a TCP proxy cut.
// Each sender keeps a ledger (bench/lib/failover.ts); at the end every client syncs once more and
// the database is read, and each fault reports what it cost: refused (never acknowledged),
// failed attempts, time to recover, lost (acknowledged, never received, or not stored) and
// duplicates (pushed twice, two ids for one clientId, two rows for one clientId).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { FailoverClient, Ledger, type Sent } from './lib/failover.ts';
import { percentile } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, PG_URL, pgAvailable } from './lib/pg.ts';
import { startPrivatePostgres, startPrivateRedis } from './lib/private-servers.ts';
import { hostAndPort, startProxy } from '../tests/helpers/proxy.ts';

const FAULTS = ['node-kill', 'pg-restart', 'redis-flush', 'redis-restart'] as const;
type Fault = (typeof FAULTS)[number];

/** Offered messages per second: 80% of the app's maximum sustained rate (~3,800/s, two nodes on PostgreSQL, bench/README.md). */
const RATE = Number(process.env.BENCH_FAULT_RATE ?? 2400);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
/** Length of the load; the fault comes BENCH_FAULT_AT seconds in. */
const SECONDS = Number(process.env.BENCH_FAULT_SECONDS ?? 30);
const FAULT_AT = Number(process.env.BENCH_FAULT_AT ?? 10);
/** After the load, how long the clients may still retry and fail over before what is unacknowledged counts as refused. */
const DRAIN_MS = Number(process.env.BENCH_FAULT_DRAIN_MS ?? 30_000);
const PG_DOWN_MS = Number(process.env.BENCH_PG_DOWN_MS ?? 2000);
const REDIS_DOWN_MS = Number(process.env.BENCH_REDIS_DOWN_MS ?? 2000);
const ONLY = (process.env.BENCH_FAULTS ?? '').split(',').map((s) => s.trim()).filter(Boolean);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Not Math.min(...xs): a long run has more failures than a call may take arguments.
const minOf = (xs: number[]) => xs.reduce((a, b) => Math.min(a, b), Infinity);
const maxOf = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), -Infinity);
const round = (n: number) => (Number.isFinite(n) ? Math.round(n * 10) / 10 : null);

export interface FaultResult {
  fault: Fault;
  how: string;
  clients: number;
  rate: number;
  seconds: number;
  faultAtSeconds: number;
  /** How long injecting the fault took (pg_ctl, the Redis restart), ms. */
  injectMs: number;
  offered: number;
  acked: number;
  /** Never acknowledged, even after retrying until the drain ended. */
  refused: number;
  /** Attempts that failed, by why (an error code, TIMEOUT, DISCONNECTED), and how many messages needed more than one attempt. */
  failedAttempts: Record<string, number>;
  retriedMessages: number;
  /** Messages that waited for their sender to be connected again (offered while it was away). */
  waitedForConnection: number;
  /** First and last failed attempt, ms after the fault began. */
  failuresFromMs: number | null;
  failuresToMs: number | null;
  /** Fault → the last acknowledgement of a message the fault hit (a failed attempt, or it waited for a connection): all got through. */
  recoverMs: number | null;
  /** Acknowledged messages the recipient received: live, by the sync after a reconnect, or only by the final sync. */
  delivered: number;
  deliveredLive: number;
  deliveredBySync: number;
  deliveredByFinalSync: number;
  /** Of those, pushed live after all within 3 s of the final sync (a backlog, not a gap). */
  finalThenPushedLive: number;
  /** Fault → the creation of the last acknowledged message not pushed live (how long live delivery had gaps), ms. */
  liveGapUntilMs: number | null;
  /** Acknowledged but never received (not even by the final sync), or acknowledged with an id not stored. */
  lost: number;
  /** Acknowledged, not received, by a recipient whose final sync did not finish (overload): neither delivered nor proven lost. */
  unverified: number;
  finalSyncIncomplete: number;
  falseAcks: number;
  /** Stored but never acknowledged (the sender would retry; the server dedupes). */
  storedUnacked: number;
  duplicates: number;
  duplicateDetail: { livePushedTwice: number; twoIdsForOneClientId: number; ackedWithTwoIds: number; rowsForOneClientId: number };
  /** Live latency (send → recipient's chat:message), ms: before the fault, and from the fault to the end. */
  latencyBefore: { p50: number | null; p99: number | null };
  latencyAfter: { p50: number | null; p99: number | null };
  /** node-kill: the clients of the killed node, when they were back on the other node and synced. */
  failover?: { clients: number; reconnected: number; reconnectP50Ms: number | null; reconnectMaxMs: number | null; syncedMaxMs: number | null };
  syncErrors: Record<string, number>;
  /** The private Redis after the run (since the last restart): connections it accepted, clients it cut for a full output buffer. */
  redis: { connectionsReceived: number; outputBufferDisconnections: number };
  /**
   * Presence seen by a sample of clients (presence:list every second; the partner is connected
   * throughout, except the killed node's clients until they are back): probes answered, those that
   * showed the partner offline, and the first and last such probe, ms after the fault.
   */
  presence: { probes: number; partnerOffline: number; offlineFromMs: number | null; offlineToMs: number | null };
  /** Per second of the run: offered, acknowledged, failed attempts, pushed live. */
  timeline: { s: number; offered: number; acked: number; failed: number; live: number }[];
}

interface Backends {
  /** Admin URL (database `postgres`) the nodes' databases are made on; direct, never through the proxy. */
  pgAdmin: string;
  /** What the nodes get instead of a database URL (the proxy's, for the fallback). */
  nodeUrl(dbUrl: string): string;
  pgHow: string;
  restartPg(): Promise<void>;
  redisUrl: string;
  redisInfo(): Promise<Record<string, string>>;
  flushRedis(): Promise<void>;
  restartRedis(): Promise<void>;
  close(): Promise<void>;
}

async function backends(log: (s: string) => void): Promise<Backends | null> {
  const redis = await startPrivateRedis(log);
  if (!redis) return null;
  const withRedis = (pgPart: Omit<Backends, 'redisUrl' | 'redisInfo' | 'flushRedis' | 'restartRedis' | 'close'>, closePg: () => Promise<void>): Backends => ({
    ...pgPart,
    redisUrl: redis.url,
    redisInfo: () => redis.info(),
    flushRedis: () => redis.flushAll(),
    restartRedis: () => redis.restart(REDIS_DOWN_MS),
    close: async () => {
      await closePg();
      await redis.close();
    },
  });
  const pgPrivate = await startPrivatePostgres(log);
  if (pgPrivate) {
    const pgPart = {
      pgAdmin: pgPrivate.url,
      nodeUrl: (u: string) => u,
      pgHow: `private PostgreSQL: pg_ctl stop -m fast, ${PG_DOWN_MS} ms down, pg_ctl start`,
      restartPg: () => pgPrivate.stopStart(PG_DOWN_MS),
    };
    return withRedis(pgPart, () => pgPrivate.close());
  }
  // Fallback: the machine's PostgreSQL behind a TCP proxy that is cut (never restarted).
  if (!(await pgAvailable())) {
    await redis.close();
    return null;
  }
  log('PostgreSQL fault through a TCP proxy cut (no private PostgreSQL)');
  const proxy = await startProxy(...hostAndPort(PG_URL, 5432));
  const pgPart = {
    pgAdmin: PG_URL,
    nodeUrl: (u: string) => proxy.rewrite(u),
    pgHow: `TCP proxy to the machine's PostgreSQL cut for ${PG_DOWN_MS} ms`,
    restartPg: async () => {
      await proxy.stop();
      await sleep(PG_DOWN_MS);
      await proxy.start();
    },
  };
  return withRedis(pgPart, () => proxy.close());
}

/** Calls `offer(i)` for i = 0 … total-1, evenly at `rate` per second from `start`. */
function offerAt(total: number, rate: number, offer: (i: number) => void, start = performance.now()): Promise<void> {
  let i = 0;
  return new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate));
      while (i < due) offer(i++);
      if (i >= total) resolve();
      else setTimeout(tick, 2);
    };
    tick();
  });
}

async function runFault(fault: Fault, b: Backends, log: (s: string) => void): Promise<FaultResult> {
  const db = await createBenchDatabase(b.pgAdmin);
  await b.flushRedis(); // private: nothing of another run's nodes left
  const env = { BENCH_USERS: String(CLIENTS), CHAT_RATE_LIMIT: '100000', DATABASE_URL: b.nodeUrl(db.url), REDIS_URL: b.redisUrl };
  const nodes: Target[] = [];
  const clients: FailoverClient[] = [];
  // If the bench is stopped midway, the nodes go too.
  const killNodes = () => {
    for (const n of nodes) n.child.kill('SIGKILL');
  };
  process.once('exit', killNodes);
  try {
    nodes.push(await startTarget('app', env));
    nodes.push(await startTarget('app', { ...env, BENCH_SEED: 'false' }));
    const urls = nodes.map((n) => n.url);
    const users = nodes[0]!.users.slice(0, CLIENTS - (CLIENTS % 2));
    // Client i starts on node i % 2: every friend pair (2k, 2k+1) spans both nodes.
    for (const [i, u] of users.entries()) clients.push(new FailoverClient(u.id, u.token, urls, i % 2));
    for (let i = 0; i < clients.length; i += 100) await Promise.all(clients.slice(i, i + 100).map((c) => c.start()));
    // Warm-up, not counted: every client's first message (the demo host's first-message
    // achievement), then 3 s at the bench rate (JIT, connection pools).
    const warm = new Ledger();
    const offer = (ledger: Ledger, tag: string, i: number) => {
      const from = clients[i % clients.length]!;
      const m: Sent = { clientId: randomUUID(), from, to: clients[(i % clients.length) ^ 1]!, content: `${tag} ${ledger.sent.length}`, createdAt: performance.now(), attempts: 0, failures: [], otherAckIds: [], token: 0, ledger };
      ledger.sent.push(m);
      from.send(m);
    };
    await offerAt(clients.length, RATE, (i) => offer(warm, 'warm', i));
    await offerAt(RATE * 3, RATE, (i) => offer(warm, 'warm', i));
    for (const t0 = performance.now(); warm.unacked() > 0 && performance.now() - t0 < DRAIN_MS; ) await sleep(100);
    await sleep(1000);
    const ledger = new Ledger();
    log(`${fault}: ${clients.length} clients on 2 nodes (warm-up: ${warm.acked}/${warm.sent.length} acked), ${RATE}/s for ${SECONDS} s, fault at ${FAULT_AT} s`);

    const start = performance.now();
    let tFault = NaN;
    let injectMs = 0;
    let how = '';
    let victims: FailoverClient[] = [];
    let redis = { connectionsReceived: NaN, outputBufferDisconnections: NaN };
    const injected = (async () => {
      await sleep(FAULT_AT * 1000);
      tFault = performance.now();
      switch (fault) {
        case 'node-kill':
          victims = clients.filter((c) => c.node === 0 && c.connected);
          nodes[0]!.child.kill('SIGKILL');
          how = 'SIGKILL of node 1; its clients fail over to node 2';
          break;
        case 'pg-restart':
          how = b.pgHow;
          await b.restartPg();
          break;
        case 'redis-flush':
          how = 'FLUSHALL on the private Redis';
          await b.flushRedis();
          break;
        case 'redis-restart':
          how = `private Redis killed (SIGKILL), started again empty ${REDIS_DOWN_MS} ms later`;
          await b.restartRedis();
          break;
      }
      injectMs = performance.now() - tFault;
      log(`${fault}: injected at ${((tFault - start) / 1000).toFixed(1)} s (${Math.round(injectMs)} ms)`);
    })();
    // Presence probes: a sample of clients asks who is online, every second, until the load ends.
    const sample = clients.filter((_, i) => i % Math.max(1, Math.floor(clients.length / 20)) === 0).slice(0, 20);
    const probes: { at: number; offline: boolean }[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        await Promise.all(
          sample.map(async (c) => {
            const partner = clients[clients.indexOf(c) ^ 1]!;
            if (!partner.connected) return; // offline is right then
            const online = await c.onlineFriends();
            if (online && partner.connected) probes.push({ at: performance.now(), offline: !online.includes(partner.id) });
          }),
        );
        await sleep(1000);
      }
    })();
    await offerAt(Math.round(RATE * SECONDS), RATE, (i) => offer(ledger, 'm', i), start);
    probing = false;
    await prober;
    await injected;
    const loadEnd = performance.now();
    while (performance.now() - loadEnd < DRAIN_MS && (ledger.unacked() > 0 || clients.some((c) => !c.connected))) await sleep(100);
    // The last pushes: until every acknowledged message was received, or none came for 3 s (a
    // backlog still draining is late, not missing), within the drain time.
    const allReceived = () => ledger.sent.every((m) => !m.ackedId || m.to.received.has(m.ackedId));
    const lastLive = () => clients.reduce((t, c) => Math.max(t, c.lastLiveAt), 0);
    for (const t0 = performance.now(); performance.now() - t0 < DRAIN_MS && performance.now() - lastLive() < 3000 && !allReceived(); ) await sleep(250);
    // Redis's own count of connections and of clients it cut for a full output buffer (a
    // subscriber too slow to read: Socket.IO pushes through it are gone).
    const info = await b.redisInfo().catch(() => ({}) as Record<string, string>);
    redis = {
      connectionsReceived: Number(info.total_connections_received ?? NaN),
      outputBufferDisconnections: Number(info.client_output_buffer_limit_disconnections ?? NaN),
    };
    log(`${fault}: load done, ${ledger.acked}/${ledger.sent.length} acknowledged; final sync`);
    for (const c of clients) c.stopSending();
    // At most DRAIN_MS for the final check; a client whose sync did not finish cannot vouch for
    // what it did not receive (counted as unverified, not lost).
    const finalUntil = performance.now() + DRAIN_MS;
    for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.finalSync(finalUntil)));
    await sleep(3000); // a live push of what the final sync brought would show it was late, not missing
    for (const c of clients) c.stop();

    // The database: every acknowledged id stored, one row per clientId.
    const check = new pg.Client({ connectionString: db.url });
    await check.connect();
    const rows = (
      await check.query<{ id: string; clientId: string; fromUserId: string }>(`SELECT id, "clientId", "fromUserId" FROM friendchat."Message" WHERE "clientId" IS NOT NULL AND "groupId" IS NULL`)
    ).rows;
    await check.end();
    const stored = new Set(rows.map((r) => r.id));
    const perClientId = new Map<string, number>();
    for (const r of rows) perClientId.set(`${r.fromUserId}/${r.clientId}`, (perClientId.get(`${r.fromUserId}/${r.clientId}`) ?? 0) + 1);
    const rowsForOneClientId = [...perClientId.values()].filter((n) => n > 1).length;
    const storedClientIds = new Set(rows.map((r) => r.clientId));

    const acked = ledger.sent.filter((m) => m.ackedId);
    let deliveredLive = 0;
    let deliveredBySync = 0;
    let deliveredByFinalSync = 0;
    let lost = 0;
    let unverified = 0;
    let lastLiveMiss = -Infinity;
    const before: number[] = [];
    const after: number[] = [];
    for (const m of acked) {
      const r = m.to.received.get(m.ackedId!);
      if (!r) {
        if (m.to.finalSyncDone) lost++;
        else unverified++;
        continue;
      }
      if (r.via === 'live') {
        deliveredLive++;
        (m.createdAt < tFault ? before : after).push(r.at - m.createdAt);
      } else {
        if (r.via === 'sync') deliveredBySync++;
        else deliveredByFinalSync++;
        lastLiveMiss = Math.max(lastLiveMiss, m.createdAt);
      }
    }
    const falseAcks = acked.filter((m) => !stored.has(m.ackedId!)).length;
    const storedUnacked = ledger.sent.filter((m) => !m.ackedId && storedClientIds.has(m.clientId)).length;
    const livePushedTwice = clients.reduce((n, c) => n + c.livePushDuplicates, 0);
    const twoIdsForOneClientId = clients.reduce((n, c) => n + [...c.idsByClientId.values()].filter((s) => s.size > 1).length, 0);
    const ackedWithTwoIds = ledger.sent.filter((m) => m.otherAckIds.length > 0).length;
    const hit = ledger.sent.filter((m) => m.failures.length > 0 || m.waited);
    const hitAcked = hit.filter((m) => m.ackedAt !== undefined);
    const rel = (t: number) => round(t - tFault);
    const syncErrors: Record<string, number> = {};
    for (const c of clients) for (const [k, v] of Object.entries(c.syncErrors)) syncErrors[k] = (syncErrors[k] ?? 0) + v;

    const timeline: FaultResult['timeline'] = Array.from({ length: Math.ceil((performance.now() - start) / 1000) }, (_, s) => ({ s, offered: 0, acked: 0, failed: 0, live: 0 }));
    const slot = (t: number) => timeline[Math.min(timeline.length - 1, Math.max(0, Math.floor((t - start) / 1000)))]!;
    for (const m of ledger.sent) {
      slot(m.createdAt).offered++;
      if (m.ackedAt !== undefined) slot(m.ackedAt).acked++;
      if (m.ackedId) {
        const r = m.to.received.get(m.ackedId);
        if (r?.via === 'live') slot(r.at).live++;
      }
    }
    for (const t of ledger.failureTimes) slot(t).failed++;

    const offline = probes.filter((p) => p.offline).map((p) => p.at);
    const presence = {
      probes: probes.length,
      partnerOffline: offline.length,
      offlineFromMs: offline.length ? rel(minOf(offline)) : null,
      offlineToMs: offline.length ? rel(maxOf(offline)) : null,
    };
    let failover: FaultResult['failover'];
    if (fault === 'node-kill') {
      const back = victims.filter((c) => c.reconnectedAt !== undefined).map((c) => c.reconnectedAt! - tFault).sort((x, y) => x - y);
      const synced = victims.filter((c) => c.syncedAt !== undefined).map((c) => c.syncedAt! - tFault);
      failover = {
        clients: victims.length,
        reconnected: back.length,
        reconnectP50Ms: round(percentile(back, 50)),
        reconnectMaxMs: round(back.at(-1) ?? NaN),
        syncedMaxMs: synced.length === victims.length ? round(maxOf(synced)) : null,
      };
    }
    const lat = (xs: number[]) => {
      xs.sort((x, y) => x - y);
      return { p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)) };
    };
    const result: FaultResult = {
      fault,
      how,
      clients: clients.length,
      rate: RATE,
      seconds: SECONDS,
      faultAtSeconds: FAULT_AT,
      injectMs: Math.round(injectMs),
      offered: ledger.sent.length,
      acked: acked.length,
      refused: ledger.unacked(),
      failedAttempts: ledger.failures,
      retriedMessages: ledger.sent.filter((m) => m.failures.length > 0).length,
      waitedForConnection: ledger.sent.filter((m) => m.waited).length,
      failuresFromMs: ledger.failureTimes.length ? rel(minOf(ledger.failureTimes)) : null,
      failuresToMs: ledger.failureTimes.length ? rel(maxOf(ledger.failureTimes)) : null,
      recoverMs: hitAcked.length ? rel(maxOf(hitAcked.map((m) => m.ackedAt!))) : hit.length ? null : 0,
      delivered: deliveredLive + deliveredBySync + deliveredByFinalSync,
      deliveredLive,
      deliveredBySync,
      deliveredByFinalSync,
      finalThenPushedLive: clients.reduce((n, c) => n + c.livePushedAfterFinal, 0),
      liveGapUntilMs: Number.isFinite(lastLiveMiss) ? rel(lastLiveMiss) : null,
      lost: lost + falseAcks,
      unverified,
      finalSyncIncomplete: clients.filter((c) => !c.finalSyncDone).length,
      falseAcks,
      storedUnacked,
      duplicates: livePushedTwice + twoIdsForOneClientId + ackedWithTwoIds + rowsForOneClientId,
      duplicateDetail: { livePushedTwice, twoIdsForOneClientId, ackedWithTwoIds, rowsForOneClientId },
      latencyBefore: lat(before),
      latencyAfter: lat(after),
      failover,
      syncErrors,
      redis,
      presence,
      timeline,
    };
    report(result, log);
    return result;
  } finally {
    for (const c of clients) c.stop();
    for (const n of nodes) await n.stop();
    process.off('exit', killNodes);
    await db.drop().catch((err: Error) => log(`${fault}: dropping the database failed: ${err.message}`));
  }
}

function report(r: FaultResult, log: (s: string) => void): void {
  log(`${r.fault}: ${r.how}`);
  log(
    `${r.fault}: offered ${r.offered}, acked ${r.acked}, refused ${r.refused} (never acked); failed attempts ${JSON.stringify(r.failedAttempts)} on ${r.retriedMessages} messages (${r.waitedForConnection} waited for a connection), ` +
      `from ${r.failuresFromMs} to ${r.failuresToMs} ms after the fault; recoverMs ${r.recoverMs}`,
  );
  log(
    `${r.fault}: delivered ${r.delivered}/${r.acked} (live ${r.deliveredLive}, by reconnect sync ${r.deliveredBySync}, only by the final sync ${r.deliveredByFinalSync}, of which pushed live later ${r.finalThenPushedLive}; ` +
      `live gaps until ${r.liveGapUntilMs} ms after the fault); lost ${r.lost} (false acks ${r.falseAcks}), unverified ${r.unverified} (${r.finalSyncIncomplete} final syncs unfinished); duplicates ${r.duplicates} ${JSON.stringify(r.duplicateDetail)}; stored but unacked ${r.storedUnacked}`,
  );
  log(`${r.fault}: live latency p50/p99 before ${r.latencyBefore.p50}/${r.latencyBefore.p99} ms, after ${r.latencyAfter.p50}/${r.latencyAfter.p99} ms; sync errors ${JSON.stringify(r.syncErrors)}; Redis: ${r.redis.connectionsReceived} connections, ${r.redis.outputBufferDisconnections} cut for a full output buffer`);
  log(`${r.fault}: presence probes ${r.presence.probes}, partner shown offline ${r.presence.partnerOffline} (from ${r.presence.offlineFromMs} to ${r.presence.offlineToMs} ms after the fault)`);
  if (r.failover) log(`${r.fault}: failover of ${r.failover.clients} clients: reconnected ${r.failover.reconnected}, p50 ${r.failover.reconnectP50Ms} ms, max ${r.failover.reconnectMaxMs} ms; all synced ${r.failover.syncedMaxMs} ms after the kill`);
}

export async function benchFaults(log: (s: string) => void): Promise<FaultResult[] | { skipped: string }> {
  const b = await backends(log);
  if (!b) {
    log('faults: needs redis-server and PostgreSQL (private or the machine\'s): skipped');
    return { skipped: 'no redis-server or PostgreSQL' };
  }
  const results: FaultResult[] = [];
  try {
    for (const fault of FAULTS) {
      if (ONLY.length && !ONLY.includes(fault)) continue;
      results.push(await runFault(fault, b, log));
    }
  } finally {
    await b.close();
  }
  return results;
}
