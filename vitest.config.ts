import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  test: {
    // Tests that start servers and databases are heavy on 2 cores; keep parallelism modest.
    maxWorkers: 2,
    projects: [
      {
        // The demo host and the tests import the module as a host does (tsconfig `paths` for tsx and tsc).
        resolve: { alias: { 'friend-chat/server': r('./backend/src/server.ts') } },
        test: {
          name: 'backend',
          include: ['tests/backend/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        plugins: [vue()],
        resolve: {
          alias: {
            'friend-chat/vue': r('./frontend/src/friend-chat/index.ts'),
            '@': r('./frontend/src'),
            '@shared': r('./backend/src/realtime'),
          },
        },
        test: {
          name: 'frontend',
          include: ['tests/frontend/**/*.test.ts'],
          environment: 'happy-dom',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          globalSetup: ['tests/e2e/global-setup.ts'],
        },
      },
    ],
  },
});
