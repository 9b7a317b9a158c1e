// friend-chat/vue as a library: one ES module (dist/vue/index.js) and one stylesheet
// (dist/vue/style.css); vue, pinia, naive-ui and socket.io-client stay the host's imports.
// Type declarations come from vue-tsc (frontend/tsconfig.lib.json) into dist/vue/types/.
import { defineConfig, type Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';
import { fileURLToPath } from 'node:url';

const r = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** dist/vue/index.d.ts: the declarations keep the source tree's layout under types/. */
const typesEntry: Plugin = {
  name: 'friend-chat-types-entry',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'index.d.ts', source: "export * from './types/frontend/src/friend-chat/index';\n" });
  },
};

export default defineConfig({
  root: r('.'),
  plugins: [vue(), typesEntry],
  build: {
    outDir: r('../dist/vue'),
    emptyOutDir: true,
    copyPublicDir: false,
    sourcemap: true,
    lib: {
      entry: r('./src/friend-chat/index.ts'),
      formats: ['es'],
      fileName: () => 'index.js',
      cssFileName: 'style',
    },
    rolldownOptions: {
      external: [/^vue($|\/)/, /^@vue\//, /^pinia($|\/)/, /^naive-ui($|\/)/, /^socket\.io-client($|\/)/],
    },
  },
});
