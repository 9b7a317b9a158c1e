import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

// The chat module (frontend/src/friend-chat) and the demo around it meet only at the module's
// public entry point, `friend-chat/vue`, exactly as another site would use it.
const MODULE = 'frontend/src/friend-chat';
const toModuleInternals = {
  // '@/friend-chat…', './friend-chat…', '../../friend-chat…': anything but the package path.
  regex: '^(@/|\\.{1,2}/)(.*/)?friend-chat(/|$)',
  message: 'The demo uses the chat module only through its public entry point, friend-chat/vue.',
};
const toDemo = {
  group: ['@/**', '@shared/**', 'vue-router', 'vue-i18n'],
  message: 'The chat module stands alone: no demo code (stores, views, router, i18n), no router or vue-i18n of the host.',
};
/** Files `depth` folders below the module root may not climb out of it with a relative path. */
function moduleFiles(depth) {
  const files = [`${MODULE}/${'*/'.repeat(depth)}*.{ts,vue}`];
  // Except the wire types shared with the server, which wire.ts takes from the backend.
  const regex = `^(?!(\\.\\./)+backend/src/realtime/events$)(\\.\\./){${depth + 1}}`;
  const message = 'The chat module stands alone: no relative path out of frontend/src/friend-chat (the wire types come through wire.ts).';
  return { files, rules: { 'no-restricted-imports': ['error', { patterns: [toDemo, { regex, message }] }] } };
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'data/', 'backend/src/generated/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/no-v-html': 'error',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
    },
  },
  {
    files: ['frontend/src/**/*.{ts,vue}'],
    ignores: [`${MODULE}/**`],
    rules: { 'no-restricted-imports': ['error', { patterns: [toModuleInternals] }] },
  },
  ...[0, 1, 2, 3].map(moduleFiles),
);
