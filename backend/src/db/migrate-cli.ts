// `npm run db:migrate`: applies the chat module's migrations (its schema) and the demo host's
// (public) to the configured database, in that order.
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { createApp } from '../app.ts';

const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'info' });
try {
  const app = await createApp(config, { seed: false, staticDir: null });
  await app.close();
  console.log(`Migrations applied (${config.databaseUrl ? 'postgres' : 'pglite'}).`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
