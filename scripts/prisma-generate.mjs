// Runs `prisma generate` offline for both Prisma schemas: the chat module's
// (prisma/friendchat/schema.prisma → backend/src/generated/prisma) and the demo host's
// (prisma/schema.prisma → backend/src/host/generated/prisma). Prisma's CLI wants a native schema
// engine it would download from its own host, which this environment cannot reach; generating
// the client does not use it, so any existing file satisfies the check (DESIGN.md, Storage).
// Skips a client that is newer than its schema.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const clients = [
  { schema: 'prisma/friendchat/schema.prisma', marker: 'backend/src/generated/prisma/client.ts' },
  { schema: 'prisma/schema.prisma', marker: 'backend/src/host/generated/prisma/client.ts' },
];
const env = { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
const cli = path.join(root, 'node_modules/prisma/build/index.js');
for (const { schema, marker } of clients) {
  const m = path.join(root, marker);
  const s = path.join(root, schema);
  if (existsSync(m) && statSync(m).mtimeMs >= statSync(s).mtimeMs && !process.argv.includes('--force')) continue;
  const res = spawnSync(process.execPath, [cli, 'generate', '--schema', schema], { cwd: root, env, stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
