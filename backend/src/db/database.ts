// The module's database connection: its own pool on PostgreSQL (`{ url }`), or the host's PGlite
// instance (`{ pglite }`, embedded PostgreSQL, one connection shared with the host). Both go
// through Prisma driver adapters set to the module's schema, so the generated client qualifies
// every table with it; raw SQL qualifies them through `table()`.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter } from '@prisma/driver-adapter-utils';
import { PrismaClient } from '../generated/prisma/client.ts';

/**
 * `statementTimeoutMs` (PostgreSQL only; default 30,000; 0: none): the longest a statement of the
 * module may run before PostgreSQL cancels it, so a hung query cannot hold a pool slot for good.
 * PGlite has no such timer (WebAssembly, no signals) and its connection is the host's: not set.
 */
export type DatabaseSource = { url: string; statementTimeoutMs?: number; preparedStatements?: boolean } | { pglite: PGlite };

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export type SqlFn = <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>;

/** Raw SQL on one session (advisory locks are per session). */
export interface SqlSession {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  release(): Promise<void>;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  /** The PostgreSQL schema holding the module's tables. */
  schema: string;
  prisma: PrismaClient;
  /** `"<schema>"."<name>"`: a module table, for raw SQL. */
  table(name: string): string;
  /**
   * Plain SQL for the few hot paths where Prisma's per-query overhead matters (the batched
   * chat insert, unread counts). Array parameters are sent as PostgreSQL arrays. Select
   * `timestamp` columns `AT TIME ZONE 'UTC'` so both drivers read them as UTC instants.
   */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * `sql` for the statements every message runs (the chat insert, unread counts, delivered
   * acks): on PostgreSQL a named prepared statement, parsed once per connection and, after a
   * few runs, planned once (the unread counts took ~5× longer to plan than to run). On PGlite,
   * PREPARE/EXECUTE in its one session. Plain `sql` with `preparedStatements: false` (e.g.
   * behind PgBouncer in transaction mode before 1.21). The text must be fixed (one prepared
   * statement per distinct text), its parameters typed by casts (`$1::text[]`); not for use
   * inside `transaction`.
   */
  prepared<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /**
   * Plain SQL in one transaction: committed when `fn` resolves, rolled back when it throws. On
   * PGlite everything else waits meanwhile (one connection): inside `fn`, use only its `sql`.
   */
  transaction<T>(fn: (sql: SqlFn) => Promise<T>): Promise<T>;
  /** The `application_name` of the module's PostgreSQL connections (null on PGlite). */
  applicationName: string | null;
  session(): Promise<SqlSession>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

// Prepared statements are named by their text, so one text is prepared once per connection.
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `fc_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A parameter's text form, as node-postgres sends it: arrays as '{…}' literals (one dimension). */
function textOf(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    const items = value.map((v) => {
      if (Array.isArray(v)) throw new TypeError('friend-chat: prepared statements take one-dimensional arrays');
      const t = textOf(v);
      return t === null ? 'NULL' : `"${t.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
    });
    return `{${items.join(',')}}`;
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * A parameter as an SQL literal for EXECUTE on PGlite: NULL, or an escape string (E'…', the same
 * whatever standard_conforming_strings says) holding its text form. Untyped, so the prepared
 * statement's parameter type reads it (uuid[], bigint[], int, …) as it would from the wire.
 */
export function sqlLiteral(value: unknown): string {
  const text = textOf(value);
  return text === null ? 'NULL' : `E'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** SQLSTATEs: no prepared statement by that name (26000); one exists already (42P05). */
const NO_SUCH_STATEMENT = '26000';
const STATEMENT_EXISTS = '42P05';
const sqlState = (err: unknown) => (err as { code?: unknown } | null)?.code;

/** A PostgreSQL identifier, quoted. */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** A schema name the module accepts: a plain lowercase identifier, not PostgreSQL's own. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * pglite-prisma-adapter's factory takes no options; the connection it makes reports the
 * schema Prisma qualifies tables with, so it is set there.
 */
class PrismaPGliteInSchema extends PrismaPGlite {
  constructor(
    client: PGlite,
    private readonly schemaName: string,
  ) {
    super(client);
  }
  override async connect(): Promise<SqlDriverAdapter> {
    const adapter = await super.connect();
    const info = adapter.getConnectionInfo?.bind(adapter);
    adapter.getConnectionInfo = () => ({ supportsRelationJoins: false, ...info?.(), schemaName: this.schemaName });
    return adapter;
  }
}

export async function openDatabase(source: DatabaseSource, opts: { schema: string }): Promise<Database> {
  const { schema } = opts;
  if (!SCHEMA_NAME.test(schema) || schema === 'public' || schema.startsWith('pg_')) {
    throw new Error(`friend-chat: schema must be a plain lowercase identifier other than public (got ${JSON.stringify(schema)})`);
  }
  const table = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  let closing: Promise<void> | null = null;
  const base = (d: Omit<Database, 'schema' | 'table' | 'ping' | 'close'>, end: () => Promise<void>): Database => ({
    ...d,
    schema,
    table,
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
        await end();
      })();
      return closing;
    },
  });

  if ('pglite' in source) {
    const pglite = source.pglite;
    await pglite.waitReady;
    // Timestamps are stored as UTC (Prisma's convention for `timestamp` columns). PGlite takes
    // the process's time zone otherwise, and DEFAULT CURRENT_TIMESTAMP would store local time.
    await pglite.exec(`SET TIME ZONE 'UTC'`);
    const query = async <T,>(text: string, params: unknown[] = []) => (await pglite.query<T>(text, params)).rows;
    return base(
      {
        kind: 'pglite',
        prisma: new PrismaClient({ adapter: new PrismaPGliteInSchema(pglite, schema) }),
        sql: query,
        prepared: async <T,>(text: string, params: unknown[] = []) => {
          // PGlite's `query` has no named statements: PREPARE once, then EXECUTE with each
          // parameter as an untyped literal of the text node-postgres would send for it (arrays
          // as '{…}'), read by the input function of the parameter's declared type, as on the
          // wire. The session is the host's too: a statement gone (DEALLOCATE) is prepared again.
          const name = quoteIdent(statementName(text));
          const execute = `EXECUTE ${name}${params.length ? `(${params.map(sqlLiteral).join(', ')})` : ''}`;
          try {
            return await query<T>(execute);
          } catch (err) {
            if (sqlState(err) !== NO_SUCH_STATEMENT) throw err;
            await pglite.exec(`PREPARE ${name} AS ${text}`).catch((e: unknown) => {
              if (sqlState(e) !== STATEMENT_EXISTS) throw e;
            });
            return await query<T>(execute);
          }
        },
        transaction: (fn) => pglite.transaction((tx) => fn(async <T,>(text: string, params: unknown[] = []) => (await tx.query<T>(text, params)).rows)),
        applicationName: null,
        // PGlite is a single connection; the migrator runs before anything else uses it.
        session: async () => ({ exec: async (sql) => void (await pglite.exec(sql)), query, release: async () => {} }),
      },
      // The PGlite instance is the host's: it closes it.
      async () => {},
    );
  }

  // The module's own connections carry an application_name, so the sync horizon can tell its
  // writers from the host's (chat/sql.ts). Every session in UTC, whatever the server's default.
  // No JIT: the module's statements are short index lookups, and PostgreSQL compiles any plan
  // whose cost estimate passes jit_above_cost — the per-group unread counts (a count per
  // membership) did, and spent ~300 ms compiling a 4 ms query (bench/README.md, groups). A
  // statement timeout: a statement that hangs is cancelled (answered UNAVAILABLE/INTERNAL like any
  // failed query) instead of holding one of the pool's slots for good.
  const applicationName = `friendchat:${schema}`;
  const statementTimeoutMs = source.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0) {
    throw new Error(`friend-chat: database.statementTimeoutMs must be a whole number of ms, 0 or more (got ${String(statementTimeoutMs)})`);
  }
  const pool = new pg.Pool({
    connectionString: source.url,
    max: 10,
    connectionTimeoutMillis: 5_000,
    application_name: applicationName,
    options: `-c TimeZone=UTC -c jit=off -c statement_timeout=${statementTimeoutMs}`,
  });
  // An idle client that loses its server emits 'error' on the pool; without a listener that
  // would crash the process. Queries on a broken connection fail and are answered as UNAVAILABLE.
  pool.on('error', () => {});
  return base(
    {
      kind: 'postgres',
      prisma: new PrismaClient({ adapter: new PrismaPg(pool, { schema }) }),
      sql: async <T,>(text: string, params: unknown[] = []) => (await pool.query({ text, values: params })).rows as T[],
      prepared:
        source.preparedStatements === false
          ? async <T,>(text: string, params: unknown[] = []) => (await pool.query({ text, values: params })).rows as T[]
          : async <T,>(text: string, params: unknown[] = []) => (await pool.query({ name: statementName(text), text, values: params })).rows as T[],
      applicationName,
      async transaction(fn) {
        const client = await pool.connect();
        let broken = false;
        try {
          await client.query('BEGIN');
          const result = await fn(async <T,>(text: string, params: unknown[] = []) => (await client.query({ text, values: params })).rows as T[]);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => (broken = true));
          throw err;
        } finally {
          // A connection that could not even roll back is dropped, not reused.
          client.release(broken);
        }
      },
      async session() {
        const client = await pool.connect();
        return {
          exec: async (sql) => void (await client.query(sql)),
          query: async <T,>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
          release: async () => client.release(),
        };
      },
    },
    () => pool.end(),
  );
}
