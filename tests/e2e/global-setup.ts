// Builds the frontend once before the browser tests, so they run against the current code.
import { spawnSync } from 'node:child_process';

export default function setup() {
  const r = spawnSync('npx', ['vite', 'build', '--config', 'frontend/vite.config.ts', '--logLevel', 'warn'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('frontend build failed');
}
