// `npm run db:seed`: migrates, then creates the demo users if they are missing.
import 'dotenv/config';
import { loadConfig } from '../config.ts';
import { createApp } from '../app.ts';

const config = loadConfig();
try {
  const app = await createApp(config, { seed: false, staticDir: null });
  try {
    const created = await app.seed({ onlyIfEmpty: false });
    console.log(created ? 'Demo users created: alice, bob, carol, dave, erin (password: password123).' : 'Demo users already exist.');
  } finally {
    await app.close();
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
}
