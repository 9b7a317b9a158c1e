// node server.js: the example host on PORT (default 3100), on PostgreSQL when DATABASE_URL is set,
// else on PGlite in PGLITE_DIR (default ./data).
import { startHost } from './app.js';

const env = process.env;
if (!env.JWT_SECRET) console.warn('JWT_SECRET is unset: using a development secret. Set your own.');
const host = await startHost({
  port: Number(env.PORT ?? 3100),
  host: env.HOST ?? '127.0.0.1',
  databaseUrl: env.DATABASE_URL || undefined,
  pgliteDir: env.PGLITE_DIR ?? './data',
  jwtSecret: env.JWT_SECRET ?? 'express-host-development-secret',
});
console.log(`express-host listening on ${host.url} (sign in as ada, bo or cy, password password123)`);

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    host.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}
