// A private PostgreSQL and a private Redis for the fault benchmark, so it can restart and flush
// them without touching the machine's servers (other work uses those). PostgreSQL is a fresh
// cluster made with the Debian binaries (/usr/lib/postgresql/<version>/bin); as root it runs as
// the `postgres` user (initdb refuses root). Redis is `redis-server` on another port, no persistence.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// If the bench ends early (an error, Ctrl-C, a timeout's SIGTERM), the servers go with it.
const onExit = new Set<() => void>();
let hooked = false;
function atExit(fn: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const f of onExit) f();
    });
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  }
  onExit.add(fn);
  return () => onExit.delete(fn);
}

export interface PrivatePostgres {
  /** postgresql://postgres@127.0.0.1:<port>/postgres */
  url: string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is down for a moment. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`, then `start` after `downMs`. */
  stopStart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

function pgBinDir(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(base, versions[0]!, 'bin') : null;
}

/** Null when the binaries are not there or the cluster cannot be made (the caller falls back). */
export async function startPrivatePostgres(log: (s: string) => void): Promise<PrivatePostgres | null> {
  const bin = pgBinDir();
  if (!bin) {
    log('private PostgreSQL: no /usr/lib/postgresql/*/bin/initdb');
    return null;
  }
  const root = process.getuid?.() === 0;
  const pgUser = root ? (spawnSync('id', ['-u', 'postgres']).status === 0 ? 'postgres' : null) : null;
  if (root && !pgUser) {
    log('private PostgreSQL: running as root and there is no postgres user');
    return null;
  }
  // As root, every PostgreSQL command runs as `postgres`.
  // Asynchronous: the load goes on while pg_ctl waits for the server.
  const run = async (cmd: string, args: string[]) => {
    const [c, a] = pgUser ? ['runuser', ['-u', pgUser, '--', path.join(bin, cmd), ...args]] : [path.join(bin, cmd), args];
    try {
      await execFileAsync(c, a, { encoding: 'utf8' });
    } catch (err) {
      const e = err as { code?: number; stderr?: string; stdout?: string };
      throw new Error(`${cmd} failed (${e.code}): ${e.stderr || e.stdout}`);
    }
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fc-faults-pg-'));
  const data = path.join(dir, 'data');
  if (pgUser) {
    const uid = Number(spawnSync('id', ['-u', pgUser], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', pgUser], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
  const pgCtl = (...args: string[]) => run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', '-o', opts, ...args]);
  try {
    await run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    await pgCtl('start');
  } catch (err) {
    log(`private PostgreSQL: ${(err as Error).message.trim()}`);
    rmSync(dir, { recursive: true, force: true });
    return null;
  }
  log(`private PostgreSQL ${path.basename(path.dirname(bin))} on port ${port} (${dir})`);
  const forget = atExit(() => {
    const args = ['-D', data, 'stop', '-m', 'immediate'];
    spawnSync(pgUser ? 'runuser' : path.join(bin, 'pg_ctl'), pgUser ? ['-u', pgUser, '--', path.join(bin, 'pg_ctl'), ...args] : args);
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async restart() {
      await pgCtl('restart', '-m', 'fast');
    },
    async stopStart(downMs) {
      await pgCtl('stop', '-m', 'fast');
      await sleep(downMs);
      await pgCtl('start');
    },
    async close() {
      forget();
      try {
        await pgCtl('stop', '-m', 'immediate');
      } catch {
        // already down
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  url: string;
  /** INFO fields (e.g. total_connections_received, client_output_buffer_limit_disconnections). */
  info(): Promise<Record<string, string>>;
  flushAll(): Promise<void>;
  /** Kills the server (SIGKILL: connections drop), then starts it again, empty, after `downMs`. */
  restart(downMs: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedis(log: (s: string) => void): Promise<PrivateRedis | null> {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    log('private Redis: no redis-server binary');
    return null;
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  // Redis logs a client it cuts for a full output buffer (INFO counts it only from 7.2 on).
  const logFile = path.join(os.tmpdir(), `fc-faults-redis-${port}.log`);
  let child: ChildProcess | null = null;
  const { createClient } = await import('redis');
  const command = async (...args: string[]) => {
    const c = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
    c.on('error', () => {});
    await c.connect();
    try {
      return await c.sendCommand(args);
    } finally {
      await c.quit().catch(() => {});
    }
  };
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--logfile', logFile], {
      stdio: 'ignore',
    });
    for (let i = 0; i < 100; i++) {
      try {
        if (String(await command('PING')) === 'PONG') return;
      } catch {
        // not up yet
      }
      await sleep(50);
    }
    throw new Error('private redis-server did not answer PING');
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  try {
    await start();
  } catch (err) {
    log(`private Redis: ${(err as Error).message}`);
    await kill();
    return null;
  }
  log(`private Redis on port ${port}`);
  const forget = atExit(() => {
    (child as ChildProcess | null)?.kill('SIGKILL');
    rmSync(logFile, { force: true });
  });
  return {
    url,
    async info() {
      const text = String(await command('INFO', 'all'));
      const fields: Record<string, string> = Object.fromEntries(
        text
          .split('\r\n')
          .filter((l) => l.includes(':') && !l.startsWith('#'))
          .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
      );
      const logged = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('output buffer limits')).length : 0;
      fields.client_output_buffer_limit_disconnections ??= String(logged);
      return fields;
    },
    async flushAll() {
      await command('FLUSHALL');
    },
    async restart(downMs) {
      await kill();
      await sleep(downMs);
      await start();
    },
    async close() {
      forget();
      await kill();
      rmSync(logFile, { force: true });
    },
  };
}
