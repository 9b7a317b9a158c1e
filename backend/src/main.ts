// `npm start`: migrate, seed the demo when empty, build the frontend if missing, serve.
import 'dotenv/config';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { createApp, FRONTEND_DIST } from './app.ts';
import { MigrationError } from 'friend-chat/server';

async function main() {
  const config = loadConfig();
  if (!existsSync(path.join(FRONTEND_DIST, 'index.html')) && process.env.SKIP_FRONTEND_BUILD !== '1') {
    console.log('No frontend build found; building it once (npm run build)…');
    const r = spawnSync('npx', ['vite', 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'warn'], {
      stdio: 'inherit',
      cwd: path.resolve(FRONTEND_DIST, '../..'),
    });
    if (r.status !== 0) console.error('Frontend build failed; serving the API only.');
  }

  const app = await createApp(config);
  const url = await app.listen();
  const where = config.databaseUrl ? 'PostgreSQL' : `PGlite (${config.pgliteDir})`;
  console.log(`Friend chat is running at ${url}  [database: ${where}; redis: ${config.redisUrl ? 'on' : 'off'}; node ${app.nodeId}]`);
  console.log('Demo logins: alice / bob / carol (password: password123)');

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received, shutting down…`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    await app.close();
    console.log('Stopped cleanly.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof MigrationError) console.error(`Start-up stopped: ${err.message}`);
  else console.error('Start-up failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
