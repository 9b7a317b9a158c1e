// Issue 11, point 1: several nodes started at once on a fresh PostgreSQL database (the README's
// "several nodes" section). Each applies migrations, fills the catalogues and seeds the demo
// when the database is empty; all of them must come up, and the demo exists once.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../backend/src/app.ts';
import { loadConfig } from '../../backend/src/config.ts';
import { DEMO_USERS } from '../../backend/src/db/seed.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { apiLogin, startAppProcess, type RunningApp } from '../helpers/browser.ts';

if (!process.env.DATABASE_URL) console.warn('startup.test.ts skipped: set DATABASE_URL to run the PostgreSQL start-up tests');

async function countRows(url: string): Promise<{ users: number; demo: number; achievements: number; tasks: number; follows: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const one = async (sql: string, params: unknown[] = []) => Number((await c.query<{ n: string }>(sql, params)).rows[0]!.n);
    return {
      users: await one('SELECT count(*) AS n FROM "User"'),
      demo: await one('SELECT count(*) AS n FROM "User" WHERE username = ANY($1)', [DEMO_USERS.map((u) => u.username)]),
      achievements: await one('SELECT count(*) AS n FROM "Achievement"'),
      tasks: await one('SELECT count(*) AS n FROM "Task"'),
      follows: await one('SELECT count(*) AS n FROM "Follow"'),
    };
  } finally {
    await c.end();
  }
}

describe.skipIf(!process.env.DATABASE_URL)('nodes starting together on a fresh PostgreSQL database', () => {
  let db: TestDatabase;
  const apps: App[] = [];
  const processes: RunningApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close();
    for (const p of processes.splice(0)) await p.stop();
  });
  afterAll(async () => db?.drop());

  it('three nodes in one process all start, and the demo and catalogues exist once', async () => {
    const config = loadConfig({}, { databaseUrl: db.url, jwtSecret: 'test-secret-test-secret-0123456789', bcryptRounds: 4, logLevel: 'silent' });
    const started = await Promise.allSettled([0, 1, 2].map(() => createApp(config, { seed: 'if-empty', staticDir: null })));
    for (const r of started) if (r.status === 'fulfilled') apps.push(r.value);
    expect(started.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started', 'started']);

    const rows = await countRows(db.url!);
    expect(rows).toMatchObject({ users: DEMO_USERS.length, demo: DEMO_USERS.length, follows: 10 });
    expect(rows.achievements).toBeGreaterThan(0);
    expect(rows.tasks).toBeGreaterThan(0);
    // Each node serves the one demo: alice signs in through every node.
    for (const a of apps) {
      const url = await a.listen(0, '127.0.0.1');
      expect((await apiLogin(url, 'alice')).token).toEqual(expect.any(String));
    }
  });

  it('two `npm start` processes at once on a fresh database both serve, and alice exists once', async () => {
    const fresh = await createTestDatabase('postgres');
    try {
      const env = { DATABASE_URL: fresh.url!, JWT_SECRET: 'test-secret-test-secret-0123456789' };
      const results = await Promise.allSettled([startAppProcess(env), startAppProcess(env)]);
      for (const r of results) if (r.status === 'fulfilled') processes.push(r.value);
      expect(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'started'))).toEqual(['started', 'started']);
      for (const p of processes) {
        expect((await fetch(`${p.url}/api/health`)).status).toBe(200);
        expect((await apiLogin(p.url, 'alice')).token).toEqual(expect.any(String));
      }
      expect(processes.filter((p) => /seeded demo users/.test(p.output()))).toHaveLength(1);
      expect((await countRows(fresh.url!)).demo).toBe(DEMO_USERS.length);
    } finally {
      for (const p of processes.splice(0)) await p.stop();
      await fresh.drop();
    }
  }, 120_000); // two processes start tsx and connect on 2 shared cores
});
