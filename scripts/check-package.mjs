// `npm pack` (prepack): the tarball carries the compiled entries, so refuse to pack without them.
// `npm run build` makes them (dist/server by tsconfig.server.json, dist/vue by build:vue).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const needed = [
  'dist/server/server.js',
  'dist/server/server.d.ts',
  'dist/server/generated/prisma/client.js',
  // Forked, not imported: images are re-encoded in this child process.
  'dist/server/uploads/imageWorker.js',
  'dist/vue/index.js',
  'dist/vue/index.d.ts',
  'dist/vue/style.css',
];
const missing = needed.filter((f) => !existsSync(path.join(root, f)));
if (missing.length > 0) {
  console.error(`npm pack: missing ${missing.join(', ')}; run \`npm run build\` first.`);
  process.exit(1);
}
