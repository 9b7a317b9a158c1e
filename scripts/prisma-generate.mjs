// Runs `prisma generate` offline. Prisma's CLI wants a native schema engine it would
// download from its own host, which this environment cannot reach; generating the client
// does not use it, so any existing file satisfies the check (DESIGN.md, Storage).
// Skips the work when the generated client is newer than the schema.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = path.join(root, 'prisma/schema.prisma');
const marker = path.join(root, 'backend/src/generated/prisma/client.ts');

if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(schema).mtimeMs && !process.argv.includes('--force')) {
  process.exit(0);
}
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const cli = path.join(root, 'node_modules/prisma/build/index.js');
const res = spawnSync(process.execPath, [cli, 'generate'], { cwd: root, env, stdio: 'inherit' });
process.exit(res.status ?? 1);
