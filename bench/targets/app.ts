// The real app for benchmarks: fresh database (PGlite in a fresh directory, as `npm start` keeps it
// in ./data/pglite — or in memory with BENCH_PGLITE_DIR=memory:// —, or DATABASE_URL), N users
// seeded straight into the tables as friend pairs (0-1, 2-3, …), tokens printed for the load.
// BENCH_GROUP=1: one group holding every seeded user (its id is printed too).
// BENCH_FRIENDS=K (even): instead of pairs, a ring where user i follows and is followed by
// i±1 … i±K/2, so everyone has K friends (friends = mutual follows), seeded in one statement.
// BENCH_USERS_FILE: the users and tokens go to this file instead of the hello line (tens of
// thousands of tokens), and with BENCH_SEED=false are read from it.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../backend/src/config.ts';
import { createApp } from '../../backend/src/app.ts';

const users = Number(process.env.BENCH_USERS ?? 1000);
// PGlite on disk by default, as the app runs it: in memory (Emscripten's MEMFS), a growing file is
// copied whole into a larger buffer every time it outgrows its own (`expandFileStorage`), which
// stalls the event loop for 200–350 ms at a time once the tables hold some tens of MB.
const pgliteDir = process.env.DATABASE_URL
  ? 'memory://'
  : (process.env.BENCH_PGLITE_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'fc-bench-pglite-')));
const ownDir = !process.env.DATABASE_URL && process.env.BENCH_PGLITE_DIR === undefined;
if (ownDir) process.on('exit', () => rmSync(pgliteDir, { recursive: true, force: true }));
// Every load client connects from this machine: one address, far beyond the per-address cap.
const config = loadConfig({ MAX_SOCKETS_PER_ADDRESS: '1000000', ...process.env }, {
  pgliteDir,
  jwtSecret: 'bench-secret-bench-secret-0123456789',
  logLevel: 'error',
  port: Number(process.env.PORT ?? 0),
  host: '127.0.0.1',
});
const app = await createApp(config, { seed: false, staticDir: null });
const { prisma } = app.hostDb;
let list: { id: string; token: string }[];
let groupId: string | undefined;
if (process.env.BENCH_SEED !== 'false') {
  const ids = Array.from({ length: users }, () => randomUUID());
  const tag = ids[0]!.slice(0, 6);
  const friendsEach = Number(process.env.BENCH_FRIENDS ?? 0);
  if (friendsEach > 0) {
    await seedRing(ids, tag, friendsEach);
  } else {
    await prisma.user.createMany({
      data: ids.map((id, i) => ({ id, username: `b${tag}_${i}`, displayName: `Bench ${i}`, passwordHash: 'x' })),
    });
    const follows = [];
    for (let i = 0; i + 1 < ids.length; i += 2) {
      follows.push({ followerId: ids[i]!, followeeId: ids[i + 1]! }, { followerId: ids[i + 1]!, followeeId: ids[i]! });
    }
    await prisma.follow.createMany({ data: follows });
  }
  list = ids.map((id) => ({ id, token: app.tokens.sign(id) }));
  if (process.env.BENCH_GROUP === '1') {
    // Straight into the module's tables, like the users: the group rules are not what is measured.
    const { db } = app;
    groupId = randomUUID();
    await db.sql(
      `INSERT INTO ${db.table('Group')} (id, name, "ownerId", "memberCount") VALUES ($1::uuid, 'Bench group', $2::text, $3::int)`,
      [groupId, ids[0], ids.length],
    );
    await db.sql(
      `INSERT INTO ${db.table('GroupMember')} ("groupId", "userId", role)
       SELECT $1::uuid, u, CASE WHEN u = $3::text THEN 'owner' ELSE 'member' END FROM unnest($2::text[]) u`,
      [groupId, ids, ids[0]],
    );
  }
} else if (process.env.BENCH_USERS_FILE) {
  list = JSON.parse(readFileSync(process.env.BENCH_USERS_FILE, 'utf8'));
} else {
  list = JSON.parse(process.env.BENCH_USER_LIST ?? '[]');
}

/**
 * Users and a ring of mutual follows, straight into the host's tables: user i follows i±1 …
 * i±half (mod n). Foreign-key triggers are off for the one transaction (every id is fresh).
 */
async function seedRing(ids: string[], tag: string, friendsEach: number): Promise<void> {
  const half = Math.max(1, Math.min(Math.floor(friendsEach / 2), Math.floor((ids.length - 1) / 2)));
  const numbered = `SELECT (n - 1)::int AS i, u::uuid AS id FROM unnest($1::text[]) WITH ORDINALITY AS t(u, n)`;
  await prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL session_replication_role = replica`);
      await tx.$executeRawUnsafe(
        `INSERT INTO "User" (id, username, "passwordHash", "displayName")
         SELECT id, 'b' || $2::text || '_' || i, 'x', 'Bench ' || i FROM (${numbered}) u`,
        ids,
        tag,
      );
      await tx.$executeRawUnsafe(
        `WITH u AS (${numbered}), d AS (SELECT s AS d FROM generate_series(1, $2::int) s UNION ALL SELECT -s FROM generate_series(1, $2::int) s)
         INSERT INTO "Follow" ("followerId", "followeeId")
         SELECT a.id, b.id FROM u a CROSS JOIN d JOIN u b ON b.i = ((a.i + d.d) % $3::int + $3::int) % $3::int`,
        ids,
        half,
        ids.length,
      );
    },
    // Millions of rows on a busy machine: beyond Prisma's 5 s default.
    { timeout: 30 * 60_000, maxWait: 60_000 },
  );
  // Fresh planner statistics, as a database that has lived a while has them.
  await prisma.$executeRawUnsafe(`ANALYZE "User", "Follow"`);
}
// Bench-only hooks on a separate port (never part of the app): POST /notify-many → notifyMany
// to every seeded user; answers how long storing took. GET /loop-delay → the event-loop delay and
// GC pauses since the last call. GET /memory → process.memoryUsage() after a full GC.
// GET /handshakes → the phases of new connections since the last call.
let hooks: string | undefined;
if (process.env.BENCH_HOOKS === '1') {
  const { createServer } = await import('node:http');
  const { monitorEventLoopDelay, PerformanceObserver } = await import('node:perf_hooks');
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  // Garbage collection pauses of this process (they stop the event loop).
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  // Where a new connection's time goes on this node, per phase (ms): `ws` the WebSocket upgrade
  // (HTTP upgrade request → engine.io socket open), `auth` from the open to the end of the
  // module's handshake middleware (the client's CONNECT packet, then token, user and group
  // lookups), `connect` from there to the end of the 'connection' handlers (rooms, presence).
  const phases = { ws: [] as number[], auth: [] as number[], connect: [] as number[], total: [] as number[] };
  const upgradeAt = new WeakMap<object, number>();
  const openAt = new WeakMap<object, number>();
  const authAt = new WeakMap<object, number>();
  app.io.httpServer?.prependListener('upgrade', (req: object) => upgradeAt.set(req, performance.now()));
  app.io.engine.on('connection', (conn: { request: object }) => {
    const now = performance.now();
    openAt.set(conn, now);
    const up = upgradeAt.get(conn.request);
    if (up !== undefined) phases.ws.push(now - up);
  });
  // Added after the module's own middleware and 'connection' handler: they run before these.
  app.io.of('/').use((socket, next) => {
    const now = performance.now();
    authAt.set(socket, now);
    const open = openAt.get(socket.conn);
    if (open !== undefined) phases.auth.push(now - open);
    next();
  });
  app.io.of('/').on('connection', (socket) => {
    const now = performance.now();
    const auth = authAt.get(socket);
    if (auth !== undefined) phases.connect.push(now - auth);
    const up = upgradeAt.get(socket.conn.request);
    if (up !== undefined) phases.total.push(now - up);
  });
  const pct = (xs: number[], q: number) => {
    if (xs.length === 0) return null;
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100;
  };
  const server = createServer((req, res) => {
    // GET /handshakes: the phases of the connections made since the last call (ms), then reset.
    if (req.url === '/handshakes') {
      const body = Object.fromEntries(
        Object.entries(phases).map(([k, xs]) => [k, { n: xs.length, p50: pct(xs, 0.5), p99: pct(xs, 0.99), max: pct(xs, 1) }]),
      );
      for (const xs of Object.values(phases)) xs.length = 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    // GET /loop-delay: this process's event-loop delay since the last call (ms), then reset.
    if (req.url === '/loop-delay') {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      const round = (n: number) => Math.round(n * 10) / 10;
      const body = {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        max: ms(loop.max),
        mean: ms(loop.mean),
        gc: { count: gc.count, totalMs: round(gc.totalMs), maxMs: round(gc.maxMs) },
      };
      loop.reset();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      return;
    }
    // GET /memory: this process's memory after two full GCs (the presence-scale bench).
    if (req.url === '/memory') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(process.memoryUsage()));
      return;
    }
    const t0 = performance.now();
    let storeMs = 0;
    const inputs = list.map((u) => app.services.notifications.build.taskCompleted(u.id, { id: u.id, title: 'Bench task' }, 1));
    // The module's own notifyEach (internals: it also says when the rows were stored).
    void app.chat.internals.services.notifications
      .notifyEach(inputs, () => (storeMs = performance.now() - t0))
      .then((m) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: m.length, storeMs })));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  hooks = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
const url = await app.listen();
if (process.env.BENCH_USERS_FILE && process.env.BENCH_SEED !== 'false') writeFileSync(process.env.BENCH_USERS_FILE, JSON.stringify(list));
const printed = process.env.BENCH_USERS_FILE ? [] : list;
process.stdout.write(JSON.stringify({ url: url.replace('localhost', '127.0.0.1'), hooks, groupId, users: printed }) + '\n');
const stop = async () => {
  await app.close();
  process.exit(0);
};
// SIGUSR2: full GC, so the memory benchmark reads live memory only.
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
