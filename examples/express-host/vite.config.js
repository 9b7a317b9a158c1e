// The example's one page: web/ → dist/ (served by app.js). `npx vite` serves it with the API proxied.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

export default defineConfig({
  root: 'web',
  plugins: [vue()],
  build: { outDir: '../dist', emptyOutDir: true },
  server: { proxy: { '/api': 'http://127.0.0.1:3100', '/socket.io': { target: 'http://127.0.0.1:3100', ws: true } } },
});
