// The demo host's database: embedded PGlite when DATABASE_URL is unset (its instance is shared
// with the chat module, `{ pglite }`), PostgreSQL otherwise (the module opens its own pool on
// the same URL). The host's tables and its migration history stay in `public`.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import { migrate, readMigrations, type MigrateResult, type SqlSession } from 'friend-chat/server';
import { PrismaClient } from './generated/prisma/client.ts';
import type { Config } from '../config.ts';

/** The host's own migration history (prisma/migrations), recorded in public._prisma_migrations. */
export const HOST_MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../prisma/migrations');

export interface HostDatabase {
  kind: 'pglite' | 'postgres';
  prisma: PrismaClient;
  /** What the chat module is given as `database`. */
  source: { url: string } | { pglite: PGlite };
  /** A directory for files that belong with the data (the generated JWT key), or null in memory. */
  dataDir: string | null;
  migrate(log?: (line: string) => void): Promise<MigrateResult>;
  /**
   * Runs `work` while holding a session-level advisory lock on `key`, so processes sharing one
   * PostgreSQL database (several nodes starting together) take turns. The lock lives on its own
   * session; `work` may use any connection. PGlite is one process and one connection: the lock is
   * taken all the same (a no-op in effect), so both drivers run the same code.
   */
  withAdvisoryLock<T>(key: number, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function openHostDatabase(config: Pick<Config, 'databaseUrl' | 'pgliteDir'>): Promise<HostDatabase> {
  let prisma: PrismaClient;
  let session: () => Promise<SqlSession>;
  let end: () => Promise<void>;
  let source: HostDatabase['source'];
  let dataDir: string | null;
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10, connectionTimeoutMillis: 5_000, options: '-c TimeZone=UTC' });
    pool.on('error', () => {});
    prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
    session = async () => {
      const client = await pool.connect();
      return {
        exec: async (sql) => void (await client.query(sql)),
        query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
        release: async () => client.release(),
      };
    };
    end = () => pool.end();
    source = { url: config.databaseUrl };
    dataDir = path.resolve('data');
  } else {
    const dir = config.pgliteDir;
    const inMemory = dir.startsWith('memory://');
    if (!inMemory) mkdirSync(dir, { recursive: true });
    // pg_trgm lets the chat module index message search (its migration uses it when loaded).
    const extensions = { pg_trgm };
    const pglite = inMemory ? new PGlite({ extensions }) : new PGlite(dir, { extensions });
    await pglite.waitReady;
    await pglite.exec(`SET TIME ZONE 'UTC'`);
    prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
    const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
    session = async () => ({ exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} });
    end = () => pglite.close();
    source = { pglite };
    dataDir = inMemory ? null : path.dirname(path.resolve(dir));
  }
  let closing: Promise<void> | null = null;
  return {
    kind: config.databaseUrl ? 'postgres' : 'pglite',
    prisma,
    source,
    dataDir,
    migrate: (log) => migrate({ session }, { schema: 'public', migrations: readMigrations(HOST_MIGRATIONS_DIR), log }),
    async withAdvisoryLock(key, work) {
      const s = await session();
      try {
        await s.query('SELECT pg_advisory_lock($1)', [key]);
        try {
          return await work();
        } finally {
          await s.query('SELECT pg_advisory_unlock($1)', [key]).catch(() => {});
        }
      } finally {
        await s.release();
      }
    },
    close() {
      closing ??= (async () => {
        await prisma.$disconnect();
        await end();
      })();
      return closing;
    },
  };
}
