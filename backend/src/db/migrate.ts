// Applies Prisma-format migrations the way `prisma migrate deploy` would, without Prisma's
// native schema engine (which cannot be downloaded here; DESIGN.md, Storage). Each migration
// runs in its own transaction with `search_path` set to the target schema, and is recorded in
// that schema's `_prisma_migrations` with Prisma's columns and checksum (sha256 of
// migration.sql). A session-level advisory lock, one key per schema, keeps two starting
// processes from applying one twice.
//
// The module's migrations (prisma/friendchat/migrations) go to its own schema; a host that
// applies its own the same way (the demo does, for `public`) keeps a history of its own.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteIdent, type SqlSession } from './database.ts';

// From backend/src/db/ as from a compiled dist/server/db/: the package root is three up.
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../prisma/friendchat/migrations');
/** The key `prisma migrate` locks with; used for `public`, so Prisma's CLI and this migrator exclude each other there. */
const PRISMA_ADVISORY_LOCK_KEY = 72707369;

/** One advisory lock key per schema (a stable 31-bit hash of its name). */
export function advisoryLockKey(schema: string): number {
  if (schema === 'public') return PRISMA_ADVISORY_LOCK_KEY;
  let h = 0x811c9dc5;
  for (const c of `friendchat-migrate:${schema}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h & 0x7fffffff;
}

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  constructor(
    readonly migration: string,
    cause: unknown,
  ) {
    super(`Migration ${migration} failed and was rolled back: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'MigrationError';
  }
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(path.join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

const createTable = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrateOptions {
  /** The schema the migrations create their objects in, and whose `_prisma_migrations` records them. */
  schema: string;
  migrations?: Migration[];
  log?: (line: string) => void;
}

export async function migrate(db: { session(): Promise<SqlSession> }, opts: MigrateOptions): Promise<MigrateResult> {
  const { schema, log = () => {} } = opts;
  const migrations = opts.migrations ?? readMigrations();
  const s = quoteIdent(schema);
  const record = `${s}."_prisma_migrations"`;
  const lockKey = advisoryLockKey(schema);
  const session = await db.session();
  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  // No statement timeout while migrating (the module's connections have one, database.ts): a
  // migration may build an index on a large table, and waiting for another node's lock is
  // expected. The session's own setting comes back before it returns to the pool.
  let timeout: string | null = null;
  try {
    timeout = (await session.query<{ t: string }>(`SELECT current_setting('statement_timeout') AS t`))[0]?.t ?? null;
    if (timeout !== null) await session.exec('SET statement_timeout = 0');
    await session.query('SELECT pg_advisory_lock($1)', [lockKey]);
    try {
      await session.exec(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await session.exec(createTable(record));
      const rows = await session.query<{ migration_name: string; checksum: string; finished_at: Date | null }>(
        `SELECT migration_name, checksum, finished_at FROM ${record} WHERE rolled_back_at IS NULL`,
      );
      const done = new Map(rows.filter((r) => r.finished_at !== null).map((r) => [r.migration_name, r.checksum]));
      for (const m of migrations) {
        const recorded = done.get(m.name);
        if (recorded !== undefined) {
          if (recorded !== m.checksum) log(`warning: migration ${m.name} was modified after it was applied`);
          result.alreadyApplied.push(m.name);
          continue;
        }
        try {
          await session.exec('BEGIN');
          // The migration's own names are unqualified: they land in the target schema.
          await session.exec(`SET LOCAL search_path TO ${s}`);
          await session.exec(m.sql);
          await session.query(
            `INSERT INTO ${record} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
             VALUES ($1, $2, now(), $3, NULL, NULL, now(), 1)`,
            [randomUUID(), m.checksum, m.name],
          );
          await session.exec('COMMIT');
        } catch (err) {
          await session.exec('ROLLBACK').catch(() => {});
          throw new MigrationError(m.name, err);
        }
        log(`applied migration ${m.name}${schema === 'public' ? '' : ` (schema ${schema})`}`);
        result.applied.push(m.name);
      }
    } finally {
      await session.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch(() => {});
    }
  } finally {
    if (timeout !== null) await session.query(`SELECT set_config('statement_timeout', $1, false)`, [timeout]).catch(() => {});
    await session.release();
  }
  return result;
}
