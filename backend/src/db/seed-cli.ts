// `npm run db:seed`: migrates, then creates the demo users if they are missing.
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { openDatabase, withAdvisoryLock } from './database.ts';
import { migrate } from './migrate.ts';
import { seedDemo, STARTUP_LOCK_KEY } from './seed.ts';
import { createPasswordHasher } from '../auth/passwords.ts';

const config = loadConfig();
const db = await openDatabase(config);
const passwords = createPasswordHasher({ rounds: config.bcryptRounds, threads: 1, queue: 1 });
try {
  await migrate(db);
  const created = await withAdvisoryLock(db, STARTUP_LOCK_KEY, () =>
    seedDemo(db.prisma, { onlyIfEmpty: false, hashPassword: passwords.hash }),
  );
  console.log(created ? 'Demo users created: alice, bob, carol, dave, erin (password: password123).' : 'Demo users already exist.');
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await passwords.close();
  await db.close();
}
