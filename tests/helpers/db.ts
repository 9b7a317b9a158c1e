// Test databases: every test file gets its own. PGlite in memory always; real PostgreSQL
// too when DATABASE_URL is set (a fresh database created from it and dropped afterwards).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export type DbTarget = 'pglite' | 'postgres';

/** The targets a database test runs against: PGlite always, PostgreSQL when configured. */
export function dbTargets(): DbTarget[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

export interface TestDatabase {
  url: string | undefined;
  pgliteDir: string;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const u = new URL(process.env.DATABASE_URL!);
  u.pathname = '/postgres';
  return u.toString();
}

export async function createTestDatabase(target: DbTarget): Promise<TestDatabase> {
  if (target === 'pglite') return { url: undefined, pgliteDir: 'memory://', drop: async () => {} };
  const name = `fc_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL!);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    pgliteDir: 'memory://',
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}
