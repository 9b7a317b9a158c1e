// Presence at scale (issue 15): BENCH_SCALE_CLIENTS users (default 50,000) on BENCH_SCALE_NODES
// app nodes (default 2) over
// Redis and PostgreSQL, each with BENCH_SCALE_FRIENDS friends (a ring of mutual follows), held
// by BENCH_SCALE_PROCESSES client processes, each from its own loopback address (127.0.0.2, …)
// so source ports do not run out. Measures the memory per idle connection on each node, then
// churns BENCH_SCALE_CHURN connects + disconnects per second for BENCH_SCALE_SECONDS: how long
// until every online friend has the `presence:update`, how many of them got it, and what Redis
// and PostgreSQL did meanwhile.
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createClient } from 'redis';
import { percentile } from './lib/load.ts';
import { startTarget, type Target } from './lib/process.ts';
import { createBenchDatabase, pgAvailable, redisAvailable } from './lib/pg.ts';
import type { FromWorker, ToWorker } from './lib/presence-worker.ts';

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CLIENTS = num('BENCH_SCALE_CLIENTS', 50_000);
const FRIENDS = num('BENCH_SCALE_FRIENDS', 50);
const CHURN = num('BENCH_SCALE_CHURN', 500);
const SECONDS = num('BENCH_SCALE_SECONDS', 30);
const PROCESSES = num('BENCH_SCALE_PROCESSES', Math.max(2, Math.ceil(CLIENTS / 10_000)));
/** App nodes (default 2); each holds CLIENTS / NODES sockets, one open file each. */
const NODES = num('BENCH_SCALE_NODES', 2);
/** Handshakes in flight per client process while everyone connects. */
const INFLIGHT = num('BENCH_SCALE_INFLIGHT', 50);
/** 0: no `redis-cli monitor` during the churn (MONITOR slows Redis; its per-command counts are then left out). */
const MONITOR = num('BENCH_SCALE_MONITOR', 1) !== 0;
/** A user taken offline comes back no sooner than this, so one user's updates are far apart. */
const MIN_OFFLINE_MS = 2000;
/** A friend counts as "online" for a change when connected before it and still this much later. */
const STABLE_MS = 1000;
const DRAIN_MS = 3000;

const here = path.dirname(fileURLToPath(import.meta.url));
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;
const MiB = 2 ** 20;

/**
 * Open files for every socket: raises this process's limit (children inherit it) when allowed
 * (CAP_SYS_RESOURCE); answers the limit the nodes get.
 */
function raiseFileLimit(n: number, log: (s: string) => void): number {
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${n}:${n}`], { stdio: 'pipe' });
  } catch {
    // not allowed here: the current limit stands
  }
  const limit = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? 0);
  if (limit < n) log(`open-file limit ${limit} (could not raise it to ${n}): a node holds at most about ${limit - 500} sockets; use more nodes (BENCH_SCALE_NODES) or raise \`ulimit -n\` as root`);
  return limit;
}

/** CPU seconds (user + system) of each of the given processes, from /proc. */
function cpuSeconds(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(pid, (Number(rest[11]) + Number(rest[12])) / 100); // utime, stime (fields 14, 15) in USER_HZ
    } catch {
      // gone
    }
  }
  return out;
}

/** CPU seconds spent between two readings by the processes alive at both. */
function cpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, t] of after) if (before.has(pid)) s += t - before.get(pid)!;
  return s;
}

/** Local ports of the given processes' connections to Redis (to tell their commands in MONITOR). */
function redisPortsOf(pids: number[], redisPort: number): Set<string> {
  const out = new Set<string>();
  const text = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${redisPort} )`], { encoding: 'utf8' });
  for (const line of text.split('\n')) {
    const pid = Number(/pid=(\d+)/.exec(line)?.[1]);
    if (!pids.includes(pid)) continue;
    const local = line.trim().split(/\s+/)[2]; // Recv-Q Send-Q Local Peer Process
    if (local) out.add(local.slice(local.lastIndexOf(':') + 1));
  }
  return out;
}

/**
 * Counts, through `redis-cli monitor`, the commands the nodes send (by their connections' ports)
 * and the ones their Lua scripts run (by the run's key prefix). MONITOR costs Redis some speed.
 */
function monitorRedis(url: string, ports: Set<string>, prefix: string) {
  const u = new URL(url);
  const child = spawn('redis-cli', ['-h', u.hostname, '-p', u.port || '6379', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const direct: Record<string, number> = {};
  const lua: Record<string, number> = {};
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = (rest + d.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) {
      const m = /^[\d.]+ \[\d+ ([^\]]+)\] "([^"]+)"/.exec(line);
      if (!m) continue;
      const cmd = m[2]!.toLowerCase();
      if (m[1] === 'lua') {
        if (line.includes(prefix)) lua[cmd] = (lua[cmd] ?? 0) + 1;
      } else if (ports.has(m[1]!.slice(m[1]!.lastIndexOf(':') + 1))) direct[cmd] = (direct[cmd] ?? 0) + 1;
    }
  });
  return {
    stop() {
      child.kill();
      const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
      return { commands: sum(direct), byCommand: direct, luaCalls: sum(lua), luaByCommand: lua };
    },
  };
}

/** The app target's `GET /loop-delay`: event-loop delay and GC pauses since the last call, in ms. */
interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  gc: { count: number; totalMs: number; maxMs: number };
}

function pidsNamed(comm: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() === comm) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** A node's live memory after a full GC (its bench hook): V8 heap used + external (array buffers included). */
async function heapOf(node: Target): Promise<number> {
  const m = (await (await fetch(`${node.hooks}/memory`)).json()) as NodeJS.MemoryUsage;
  return m.heapUsed + m.external; // external includes the array buffers
}

type RedisInfo = Record<string, string>;
function parseInfo(text: string): RedisInfo {
  const out: RedisInfo = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

const PG_TABLES = `SELECT relname, seq_scan, seq_tup_read, idx_scan, idx_tup_fetch, n_tup_ins, n_tup_upd FROM pg_stat_user_tables`;
type TableRow = Record<string, string | number>;
/** Per table, what changed between two readings of pg_stat_user_tables (tables with activity). */
function tableDelta(before: TableRow[], after: TableRow[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const a of after) {
    const b = before.find((r) => r.relname === a.relname);
    const d: Record<string, number> = {};
    for (const k of ['seq_scan', 'seq_tup_read', 'idx_scan', 'idx_tup_fetch', 'n_tup_ins', 'n_tup_upd']) {
      const x = Number(a[k] ?? 0) - Number(b?.[k] ?? 0);
      if (x) d[k] = x;
    }
    if (Object.keys(d).length) out[String(a.relname)] = d;
  }
  return out;
}

const PG_STATS = `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, blks_hit, blks_read, numbackends
  FROM pg_stat_database WHERE datname = current_database()`;

export async function benchPresenceScale(log: (s: string) => void) {
  const redisUrl = await redisAvailable();
  if (!(await pgAvailable()) || !redisUrl) throw new Error('presence-scale needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL)');
  const fileLimit = raiseFileLimit(Math.max(65_536, CLIENTS * 2 + 10_000), log);
  const config = { clients: CLIENTS, nodes: NODES, friends: FRIENDS, churnPerSecond: CHURN, seconds: SECONDS, processes: PROCESSES, stableMs: STABLE_MS, minOfflineMs: MIN_OFFLINE_MS, fileLimit };
  log(`config: ${JSON.stringify(config)}`);

  const db = await createBenchDatabase();
  const usersFile = path.join(os.tmpdir(), `presence-scale-${process.pid}.json`);
  const prefix = `fcscale${Date.now().toString(36)}:`;
  const env = { DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, BENCH_USERS_FILE: usersFile, BENCH_HOOKS: '1', BENCH_GROUP: undefined };
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const pgc = new pg.Client({ connectionString: db.url });
  const nodes: Target[] = [];
  const workers: ChildProcess[] = [];
  try {
    let t = performance.now();
    nodes.push(await startTarget('app', { ...env, BENCH_USERS: String(CLIENTS), BENCH_FRIENDS: String(FRIENDS) }));
    while (nodes.length < NODES) nodes.push(await startTarget('app', { ...env, BENCH_SEED: 'false' }));
    const seedSeconds = round((performance.now() - t) / 1000);
    log(`${NODES} nodes up, ${CLIENTS} users with ${FRIENDS} friends each seeded, in ${seedSeconds} s`);
    await pgc.connect();
    const follows = Number((await pgc.query('SELECT count(*) FROM "Follow"')).rows[0].count);
    const users: { id: string }[] = JSON.parse(readFileSync(usersFile, 'utf8'));
    const n = users.length;
    const half = Math.max(1, Math.min(Math.floor(FRIENDS / 2), Math.floor((n - 1) / 2)));

    // Memory before: a full GC in each node, then its resident set and its V8 heap.
    await settle(3000);
    const heapBefore = await Promise.all(nodes.map(heapOf));
    await settle(2000);
    const rssBefore = nodes.map((node) => node.rss());

    // The clients: PROCESSES processes, each a contiguous share of the users, alternating nodes.
    const nodePids = nodes.map((node) => node.child.pid!);
    const cpuConnect = cpuSeconds(nodePids);
    t = performance.now();
    const share = Math.ceil(n / PROCESSES);
    const inbox: FromWorker[][] = [];
    const waiters: (() => void)[] = [];
    const progress: number[] = [];
    const next = (w: number) =>
      new Promise<FromWorker>((resolve) => {
        const take = () => (inbox[w]!.length ? resolve(inbox[w]!.shift()!) : (waiters[w] = take));
        take();
      });
    for (let w = 0; w < PROCESSES; w++) {
      const child = fork(path.join(here, 'lib/presence-worker.ts'), [], { execArgv: ['--import', 'tsx', '--max-old-space-size=4096'], serialization: 'advanced' });
      inbox[w] = [];
      child.on('message', (m: FromWorker) => {
        if (m.type === 'progress') {
          progress[w] = m.connected;
          return;
        }
        inbox[w]!.push(m);
        waiters[w]?.();
      });
      child.on('exit', (code) => code && log(`client process ${w} exited with ${code}`));
      workers.push(child);
      const init: ToWorker = {
        type: 'init',
        usersFile,
        from: w * share,
        to: Math.min(n, (w + 1) * share),
        urls: nodes.map((node) => node.url),
        localAddress: `127.0.0.${2 + w}`,
        inflight: INFLIGHT,
      };
      child.send(init);
    }
    const progressLog = setInterval(() => log(`… ${progress.reduce((a, b) => a + b, 0)} connected`), 30_000);
    const connected = (await Promise.all(workers.map((_, w) => next(w)))) as Extract<FromWorker, { type: 'connected' }>[];
    clearInterval(progressLog);
    const connectSeconds = round((performance.now() - t) / 1000);
    const perNode = nodes.map((_, k) => connected.reduce((s, c) => s + c.perUrl[k]!, 0));
    const failed: Record<string, number> = {};
    for (const c of connected) for (const [k, v] of Object.entries(c.failed)) failed[k] = (failed[k] ?? 0) + v;
    const clientRss = connected.reduce((s, c) => s + c.rss, 0);
    const connectNodeCores = round(cpuSpent(cpuConnect, cpuSeconds(nodePids)) / connectSeconds, 2);
    log(`${perNode.join(' + ')} sockets connected in ${connectSeconds} s (${round(n / connectSeconds, 0)}/s)${Object.keys(failed).length ? `, failed: ${JSON.stringify(failed)}` : ''}; client processes ${round(clientRss / MiB, 0)} MiB; nodes busy ${connectNodeCores} cores`);

    // Memory after: idle, a full GC, the resident set again.
    await settle(5000);
    const heapAfter = await Promise.all(nodes.map(heapOf));
    await settle(2000);
    const rssAfter = nodes.map((node) => node.rss());
    const memory = nodes.map((_, k) => ({
      connections: perNode[k],
      rssBeforeMiB: round(rssBefore[k]! / MiB),
      rssAfterMiB: round(rssAfter[k]! / MiB),
      /** Resident set growth per connection: what the machine pays (allocator slack included). */
      perConnectionKiB: round((rssAfter[k]! - rssBefore[k]!) / perNode[k]! / 1024, 2),
      /** Live JS heap + external + array buffers per connection, after a full GC. */
      heapPerConnectionKiB: round((heapAfter[k]! - heapBefore[k]!) / perNode[k]! / 1024, 2),
    }));
    for (const [k, m] of memory.entries()) {
      log(`node ${k + 1}: ${m.connections} idle connections, RSS ${m.rssBeforeMiB} → ${m.rssAfterMiB} MiB, ${m.perConnectionKiB} KiB per connection (live heap ${m.heapPerConnectionKiB} KiB)`);
    }
    const redisIdle = parseInfo(await redis.info('memory'));

    // The churn, with Redis, PostgreSQL and CPU counted around it.
    const workerPids = workers.map((c) => c.pid!);
    const pgPids = pidsNamed('postgres');
    const redisPids = pidsNamed('redis-server');
    const cpuBefore = [nodePids, pgPids, redisPids, workerPids].map(cpuSeconds);
    const infoBefore = parseInfo(await redis.info());
    const cmdBefore = parseInfo(await redis.info('commandstats'));
    const monitor = MONITOR
      ? monitorRedis(redisUrl, redisPortsOf(nodePids, Number(new URL(redisUrl).port || 6379)), prefix)
      : { stop: () => ({ commands: 0, byCommand: {}, luaCalls: 0, luaByCommand: {}, skipped: true }) };
    const tablesBefore = (await pgc.query(PG_TABLES)).rows;
    const pgBefore = (await pgc.query(PG_STATS)).rows[0];
    const opsSamples: number[] = [];
    const sampler = setInterval(() => {
      redis.info('stats').then(
        (s) => opsSamples.push(Number(parseInfo(s).instantaneous_ops_per_sec)),
        () => {},
      );
    }, 1000);
    // Each node's event-loop delay and GC pauses over the churn (the hook resets them per call).
    const loopDelay = () => Promise.all(nodes.map(async (node) => (await fetch(`${node.hooks}/loop-delay`)).json() as Promise<LoopDelay>));
    // And the phases of each node's new connections over the churn (bench/targets/app.ts).
    type Phase = { n: number; p50: number | null; p99: number | null; max: number | null };
    const handshakes = () =>
      Promise.all(nodes.map(async (node) => (await fetch(`${node.hooks}/handshakes`)).json() as Promise<Record<'ws' | 'auth' | 'connect' | 'total', Phase>>));
    await Promise.all([loopDelay(), handshakes()]);
    t = performance.now();
    for (const child of workers) {
      const m: ToWorker = { type: 'churn', perSecond: CHURN / PROCESSES, seconds: SECONDS, minOfflineMs: MIN_OFFLINE_MS, drainMs: DRAIN_MS };
      child.send(m);
    }
    const churned = (await Promise.all(workers.map((_, w) => next(w)))) as Extract<FromWorker, { type: 'churned' }>[];
    const windowSeconds = (performance.now() - t) / 1000;
    const [nodeLoops, nodeHandshakes] = await Promise.all([loopDelay(), handshakes()]);
    clearInterval(sampler);
    const fromNodes = monitor.stop();
    await settle(1500); // PostgreSQL backends report their statistics at most once a second
    await pgc.query('SELECT pg_stat_clear_snapshot()');
    const pgAfter = (await pgc.query(PG_STATS)).rows[0];
    const infoAfter = parseInfo(await redis.info());
    const cmdAfter = parseInfo(await redis.info('commandstats'));
    const tablesAfter = (await pgc.query(PG_TABLES)).rows;
    const cpuAfter = [nodePids, pgPids, redisPids, workerPids].map(cpuSeconds);

    const analysis = analyse(churned, n, half, connected.flatMap((c) => c.failedUsers));
    const changes = analysis.changes;
    const perChange = (x: number) => round(x / Math.max(1, changes), 2);
    const redisCommands = Number(infoAfter.total_commands_processed) - Number(infoBefore.total_commands_processed);
    const commandstats: Record<string, number> = {};
    for (const [k, v] of Object.entries(cmdAfter)) {
      const calls = (s: string | undefined) => Number(/calls=(\d+)/.exec(s ?? '')?.[1] ?? 0);
      const d = calls(v) - calls(cmdBefore[k]);
      if (d > 0) commandstats[k.replace('cmdstat_', '')] = d;
    }
    const pgDelta: Record<string, number> = {};
    for (const k of Object.keys(pgAfter)) if (k !== 'numbackends') pgDelta[k] = Number(pgAfter[k]) - Number(pgBefore[k]);
    const cpu = { nodes: 0, postgres: 0, redis: 0, clients: 0 };
    (Object.keys(cpu) as (keyof typeof cpu)[]).forEach((k, i) => (cpu[k] = round(cpuSpent(cpuBefore[i]!, cpuAfter[i]!) / windowSeconds, 2)));
    const result = {
      config,
      seedSeconds,
      follows,
      connect: { seconds: connectSeconds, perNode, failed, clientProcessesRssMiB: round(clientRss / MiB, 0), nodeCoresBusy: connectNodeCores },
      memory,
      churn: { windowSeconds: round(windowSeconds), ...analysis, connectFailed: churned.reduce((s, c) => s + Object.values(c.failed).reduce((a, b) => a + b, 0), 0) - Object.values(failed).reduce((a, b) => a + b, 0) },
      redis: {
        fromNodes: { ...fromNodes, perChange: perChange(fromNodes.commands), luaCallsPerChange: perChange(fromNodes.luaCalls), perSecond: round(fromNodes.commands / windowSeconds, 0) },
        note: 'fromNodes: what the nodes sent (redis-cli monitor); the rest is the whole Redis server, other users of it included',
        commands: redisCommands,
        commandsPerSecond: round(redisCommands / windowSeconds, 0),
        commandsPerChange: perChange(redisCommands),
        opsPerSecondSampled: { mean: round(opsSamples.reduce((a, b) => a + b, 0) / Math.max(1, opsSamples.length), 0), max: Math.max(0, ...opsSamples) },
        commandstats,
        netInKiBPerSecond: round((Number(infoAfter.total_net_input_bytes) - Number(infoBefore.total_net_input_bytes)) / 1024 / windowSeconds, 0),
        netOutKiBPerSecond: round((Number(infoAfter.total_net_output_bytes) - Number(infoBefore.total_net_output_bytes)) / 1024 / windowSeconds, 0),
        usedMemoryIdleMiB: round(Number(redisIdle.used_memory) / MiB),
        usedMemoryAfterMiB: round(Number(infoAfter.used_memory) / MiB),
      },
      postgres: {
        note: 'pg_stat_database of the bench database over the churn window',
        ...pgDelta,
        transactionsPerSecond: round(pgDelta.xact_commit! / windowSeconds, 0),
        transactionsPerChange: perChange(pgDelta.xact_commit!),
        backends: Number(pgAfter.numbackends),
        tables: tableDelta(tablesBefore, tablesAfter),
      },
      nodeEventLoops: nodeLoops,
      nodeHandshakePhasesMs: nodeHandshakes,
      cpuCoresBusy: { ...cpu, note: 'CPU seconds per second over the churn window; postgres and redis are every process of theirs on the machine' },
    };
    log(
      `churn ${CHURN}/s for ${SECONDS} s: ${changes} changes, ${analysis.received}/${analysis.expected} expected updates (${round(analysis.receivedFraction * 100, 2)} %), ` +
        `p50 ${analysis.p50} ms, p99 ${analysis.p99} ms, max ${analysis.max} ms (online p99 ${analysis.online.p99}, offline p99 ${analysis.offline.p99}); handshake p99 ${analysis.handshake.p99} ms` +
        (analysis.droppedByServer ? `; ${analysis.droppedByServer} sockets closed by the server ${JSON.stringify(analysis.droppedReasons)}` : ''),
    );
    log(`redis from the nodes: ${fromNodes.commands} commands (${result.redis.fromNodes.perSecond}/s, ${result.redis.fromNodes.perChange} per change) ${JSON.stringify(fromNodes.byCommand)}, in Lua ${JSON.stringify(fromNodes.luaByCommand)}`);
    log(`redis server: ${redisCommands} commands (${result.redis.commandsPerSecond}/s); used_memory ${result.redis.usedMemoryIdleMiB} MiB idle`);
    log(`postgres: ${JSON.stringify(pgDelta)} (${result.postgres.transactionsPerSecond} transactions/s, ${result.postgres.transactionsPerChange} per change)`);
    log(`postgres tables: ${JSON.stringify(result.postgres.tables)}`);
    log(`CPU cores busy: ${JSON.stringify(cpu)}`);
    log(
      `node handshake phases over the churn, p50 / p99 / max ms: ${nodeHandshakes
        .map((h, k) => `node ${k + 1} (${h.total.n}): ` + (['ws', 'auth', 'connect', 'total'] as const).map((x) => `${x} ${h[x].p50} / ${h[x].p99} / ${h[x].max}`).join(', '))
        .join('; ')}`,
    );
    log(`node event loops over the churn (ms): ${nodeLoops.map((l, k) => `node ${k + 1} delay p50 ${l.p50} p99 ${l.p99} max ${l.max}, GC ${l.gc.count} pauses, ${l.gc.totalMs} total, max ${l.gc.maxMs}`).join('; ')}`);
    return result;
  } finally {
    for (const child of workers) {
      const stop: ToWorker = { type: 'stop' };
      if (child.connected) child.send(stop);
    }
    await settle(1000);
    for (const child of workers) if (child.exitCode === null) child.kill('SIGKILL');
    for (const node of nodes) await node.stop();
    await pgc.end().catch(() => {});
    await db.drop();
    rmSync(usersFile, { force: true });
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length) await redis.unlink(keys);
    await redis.quit();
  }
}

/**
 * Matches every `presence:update` received to the change it announces (the latest change of that
 * user to that state before it arrived) and counts, per change, the friends that were online
 * throughout [change, change + STABLE_MS]: those must have it.
 */
function analyse(churned: Extract<FromWorker, { type: 'churned' }>[], n: number, half: number, neverConnected: number[]) {
  // Each user's state changes during the churn, in time order (one user lives in one process).
  const events = new Map<number, { t: number; up: boolean }[]>(neverConnected.map((u) => [u, [{ t: -Infinity, up: false }]]));
  const eventsOf = (u: number) => events.get(u) ?? (events.set(u, []), events.get(u)!);
  const changes: { u: number; online: boolean; t: number }[] = [];
  for (const c of churned) {
    for (let i = 0; i < c.dropped.length; i += 2) eventsOf(c.dropped[i]!).push({ t: c.dropped[i + 1]!, up: false });
    const ups: [number, number][] = [];
    for (let i = 0; i < c.ready.length; i += 2) ups.push([c.ready[i]!, c.ready[i + 1]!]);
    for (let i = 0; i < c.changes.length; i += 3) {
      const u = c.changes[i]!;
      const online = c.changes[i + 1] === 1;
      const t = c.changes[i + 2]!;
      changes.push({ u, online, t });
      if (!online) eventsOf(u).push({ t, up: false });
    }
    for (const [u, t] of ups) eventsOf(u).push({ t, up: true });
  }
  for (const list of events.values()) list.sort((a, b) => a.t - b.t);
  // Online throughout [t0, t1]: connected at t0 (everyone was, before their first change) and no change until t1.
  const steady = (v: number, t0: number, t1: number) => {
    const list = events.get(v);
    if (!list) return true;
    let up = true; // connected before the churn (users that never connected start with an "offline" event)
    for (const e of list) {
      if (e.t <= t0) up = e.up;
      else if (e.t <= t1) return false;
      else break;
    }
    return up;
  };
  changes.sort((a, b) => a.t - b.t);
  const byKey = new Map<number, number[]>(); // (user, state) → indexes into changes, in time order
  const expectedOf: Set<number>[] = [];
  let expected = 0;
  for (const [k, c] of changes.entries()) {
    const key = c.u * 2 + (c.online ? 1 : 0);
    (byKey.get(key) ?? (byKey.set(key, []), byKey.get(key)!)).push(k);
    const set = new Set<number>();
    for (let d = 1; d <= half; d++) {
      for (const v of [(c.u + d) % n, (c.u - d + n) % n]) if (steady(v, c.t, c.t + STABLE_MS)) set.add(v);
    }
    expectedOf.push(set);
    expected += set.size;
  }
  const latencies: number[] = [];
  const online: number[] = [];
  const offline: number[] = [];
  const seen = new Set<number>();
  let unmatched = 0;
  let extra = 0;
  for (const c of churned) {
    const a = c.arrivals;
    for (let i = 0; i < a.length; i += 4) {
      const u = a[i]!;
      const on = a[i + 1] === 1;
      const ta = a[i + 2]!;
      const v = a[i + 3]!;
      const list = byKey.get(u * 2 + (on ? 1 : 0));
      let lo = 0;
      let hi = (list?.length ?? 0) - 1;
      let found = -1;
      while (list && lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (changes[list[mid]!]!.t <= ta) {
          found = list[mid]!;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      if (found < 0) {
        unmatched++; // an update from before the churn, or from a change this bench did not make
        continue;
      }
      if (!expectedOf[found]!.has(v) || seen.has(found * n + v)) {
        extra++;
        continue;
      }
      seen.add(found * n + v);
      const ms = ta - changes[found]!.t;
      latencies.push(ms);
      (on ? online : offline).push(ms);
    }
  }
  const stats = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    return { count: xs.length, p50: round(percentile(xs, 50)), p90: round(percentile(xs, 90)), p99: round(percentile(xs, 99)), max: round(xs.at(-1) ?? NaN) };
  };
  const handshake = stats(churned.flatMap((c) => c.connectMs));
  const all = stats(latencies);
  return {
    changes: changes.length,
    onlineChanges: changes.filter((c) => c.online).length,
    expected,
    received: all.count,
    receivedFraction: expected ? all.count / expected : NaN,
    extraOrLate: extra,
    unmatched,
    ...all,
    online: stats(online),
    offline: stats(offline),
    handshake,
    droppedByServer: churned.reduce((s, c) => s + c.dropped.length / 2, 0),
    droppedReasons: churned.reduce<Record<string, number>>((o, c) => {
      for (const [k, v] of Object.entries(c.droppedReasons)) o[k] = (o[k] ?? 0) + v;
      return o;
    }, {}),
    clientProcessesRssMiB: round(churned.reduce((s, c) => s + c.rss, 0) / MiB, 0),
  };
}
