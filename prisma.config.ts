// Prisma CLI configuration (the demo host's schema; the module's is prisma/friendchat/schema.prisma,
// generated with --schema). The app never runs `prisma migrate`: it applies
// prisma/migrations itself (backend/src/db/migrate.ts); this file serves `prisma generate`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
