// A throwaway PostgreSQL database for a benchmark run.
import pg from 'pg';

export const PG_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function pgAvailable(): Promise<boolean> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    return true;
  } catch {
    return false;
  }
}

/** A fresh database on the server of `serverUrl` (the machine's by default). */
export async function createBenchDatabase(serverUrl = PG_URL): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `fc_bench_${Date.now().toString(36)}`;
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`CREATE DATABASE "${name}"`);
  await c.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const d = new pg.Client({ connectionString: admin.toString() });
      await d.connect();
      await d.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await d.end();
    },
  };
}

export async function redisAvailable(url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'): Promise<string | null> {
  const { createClient } = await import('redis');
  const c = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.quit();
    return url;
  } catch {
    return null;
  }
}
