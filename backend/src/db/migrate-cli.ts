// `npm run db:migrate`: applies prisma/migrations to the configured database.
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { openDatabase } from './database.ts';
import { migrate } from './migrate.ts';

const config = loadConfig();
const db = await openDatabase(config);
try {
  const { applied, alreadyApplied } = await migrate(db, undefined, (l) => console.log(l));
  console.log(`${applied.length} applied, ${alreadyApplied.length} already applied (${db.kind}).`);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await db.close();
}
