import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const backend = 'http://localhost:3000';

export default defineConfig({
  root: r('.'),
  plugins: [vue()],
  resolve: {
    alias: {
      // The demo consumes the chat module as any host would: through its public entry point.
      'friend-chat/vue': r('./src/friend-chat/index.ts'),
      '@': r('./src'),
      '@shared': r('../backend/src/realtime'),
    },
  },
  define: {
    // vue-i18n feature flags: Composition API only, so the legacy API is tree-shaken.
    __VUE_I18N_FULL_INSTALL__: true,
    __VUE_I18N_LEGACY_API__: false,
    __INTLIFY_PROD_DEVTOOLS__: false,
  },
  build: {
    outDir: r('../dist/public'),
    emptyOutDir: true,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': backend,
      '/socket.io': { target: backend, ws: true },
    },
  },
});
