// Prisma CLI configuration. The app never runs `prisma migrate`: it applies
// prisma/migrations itself (backend/src/db/migrate.ts); this file serves `prisma generate`.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
});
