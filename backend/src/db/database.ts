// Opens the database: embedded PGlite when DATABASE_URL is unset, PostgreSQL otherwise.
// Both go through Prisma driver adapters, so the rest of the code sees one PrismaClient.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import type { Config } from '../config.ts';

/** Raw SQL access for the migrator, on one session (advisory locks are per session). */
export interface SqlSession {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  prisma: PrismaClient;
  /**
   * Plain SQL for the few hot paths where Prisma's per-query overhead matters (the batched
   * chat insert, unread counts). Array parameters are sent as PostgreSQL arrays. Select
   * `timestamp` columns `AT TIME ZONE 'UTC'` so both drivers read them as UTC instants.
   */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A directory for files that belong with the data (the generated JWT key), or null in memory. */
  dataDir: string | null;
  session(): Promise<SqlSession>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** What differs between the two drivers; the rest of a Database is built from it once. */
interface Driver {
  kind: Database['kind'];
  prisma: PrismaClient;
  dataDir: string | null;
  sql: Database['sql'];
  session(): Promise<SqlSession>;
  end(): Promise<void>;
}

function fromDriver(d: Driver): Database {
  let closing: Promise<void> | null = null;
  return {
    kind: d.kind,
    prisma: d.prisma,
    dataDir: d.dataDir,
    sql: d.sql,
    session: d.session,
    async ping() {
      try {
        await d.sql('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close() {
      closing ??= (async () => {
        await d.prisma.$disconnect();
        await d.end();
      })();
      return closing;
    },
  };
}

/**
 * Runs `work` while holding a session-level advisory lock on `key`, so processes sharing one
 * PostgreSQL database (several nodes starting together) take turns. The lock lives on its own
 * session; `work` may use any connection. PGlite is one process and one connection: the lock is
 * taken all the same (a no-op in effect), so both drivers run the same code.
 */
export async function withAdvisoryLock<T>(db: Database, key: number, work: (session: SqlSession) => Promise<T>): Promise<T> {
  const session = await db.session();
  try {
    await session.query('SELECT pg_advisory_lock($1)', [key]);
    try {
      return await work(session);
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {});
    }
  } finally {
    await session.release();
  }
}

export async function openDatabase(config: Pick<Config, 'databaseUrl' | 'pgliteDir'>): Promise<Database> {
  return config.databaseUrl ? openPostgres(config.databaseUrl) : openPGlite(config.pgliteDir);
}

async function openPGlite(dir: string): Promise<Database> {
  const inMemory = dir.startsWith('memory://');
  if (!inMemory) mkdirSync(dir, { recursive: true });
  const pglite = inMemory ? new PGlite() : new PGlite(dir);
  await pglite.waitReady;
  // Timestamps are stored as UTC (Prisma's convention for `timestamp` columns). PGlite takes
  // the process's time zone otherwise, and DEFAULT CURRENT_TIMESTAMP would store local time.
  await pglite.exec(`SET TIME ZONE 'UTC'`);
  const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
  return fromDriver({
    kind: 'pglite',
    prisma: new PrismaClient({ adapter: new PrismaPGlite(pglite) }),
    dataDir: inMemory ? null : path.dirname(path.resolve(dir)),
    sql: query,
    // PGlite is a single connection; the migrator runs before anything else uses it.
    session: async () => ({ exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} }),
    end: () => pglite.close(),
  });
}

async function openPostgres(url: string): Promise<Database> {
  // Every session in UTC, whatever the server's default: timestamps are stored as UTC.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, options: '-c TimeZone=UTC' });
  // An idle client that loses its server emits 'error' on the pool; without a listener that
  // would crash the process. Queries on a broken connection fail and are answered as UNAVAILABLE.
  pool.on('error', () => {});
  return fromDriver({
    kind: 'postgres',
    prisma: new PrismaClient({ adapter: new PrismaPg(pool) }),
    dataDir: path.resolve('data'),
    sql: async <T,>(text: string, params: unknown[] = []) => (await pool.query({ text, values: params })).rows as T[],
    async session() {
      const client = await pool.connect();
      return {
        exec: async (sql) => void (await client.query(sql)),
        query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        release: async () => client.release(),
      };
    },
    end: () => pool.end(),
  });
}
