import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

// The demo host app: everything else under backend/src is the chat module.
const HOST_FILES = [
  'backend/src/host/**',
  'backend/src/auth/**',
  'backend/src/app.ts',
  'backend/src/main.ts',
  'backend/src/config.ts',
  'backend/src/db/seed*.ts',
  'backend/src/db/migrate-cli.ts',
  'backend/src/http/server.ts',
];

// Parts of the chat module the host must not reach into, and parts of the host the module must
// not know, as paths from backend/src. Import specifiers are relative, so each rule is written
// out for the directory depth of the files it applies to.
const MODULE_PARTS = ['chat/**', 'notifications/**', 'realtime/**', 'uploads/**', 'db/database*', 'db/migrate.ts', 'http/errors*', 'http/validate*', 'http/identity*', 'generated/**', 'ports*', 'server*', 'logger*'];
const HOST_PARTS = ['host/**', 'auth/**', 'app*', 'main*', 'config*', 'db/seed*', 'db/migrate-cli*', 'http/server*'];

/** Import patterns reaching `parts` (paths from backend/src) from a file in `dir` (a path from backend/src, '' for the root). */
function reaching(parts, dir) {
  const depth = dir ? dir.split('/').length : 0;
  const up = depth ? '../'.repeat(depth) : './';
  const fromRoot = parts.map((p) => up + p);
  // A sibling in the same directory is imported as './name'.
  const siblings = dir ? parts.filter((p) => p.startsWith(`${dir}/`)).map((p) => `./${p.slice(dir.length + 1)}`) : [];
  return [...fromRoot, ...siblings];
}

function boundaryRules() {
  const rule = (files, ignores, group, message) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
  });
  const toModule = 'The demo host uses the chat module only through its public entry point: import from "friend-chat/server".';
  const toHost = 'The chat module must not depend on the demo host: declare what it needs in backend/src/ports.ts.';
  const hostDirs = [
    ['', ['app.ts', 'main.ts', 'config.ts']],
    ['host', ['*.ts']],
    ['auth', ['*.ts']],
    ['db', ['seed*.ts', 'migrate-cli.ts']],
    ['http', ['server.ts']],
  ];
  return [
    // Host files, one block per directory (two levels under host/).
    ...hostDirs.map(([dir, names]) =>
      rule(names.map((n) => `backend/src/${dir ? `${dir}/` : ''}${n}`), null, reaching(MODULE_PARTS, dir), toModule),
    ),
    rule(['backend/src/host/*/*.ts'], null, reaching(MODULE_PARTS, 'host/x'), toModule),
    // Module files.
    rule(['backend/src/*.ts'], HOST_FILES, reaching(HOST_PARTS, ''), toHost),
    ...['chat', 'notifications', 'realtime', 'db', 'http', 'uploads', 'uploads/storage'].map((dir) =>
      rule([`backend/src/${dir}/*.ts`], HOST_FILES, reaching(HOST_PARTS, dir), toHost),
    ),
  ];
}

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
  { ignores: ['node_modules/', 'dist/', 'examples/*/dist/', 'examples/*/data/', 'data/', 'backend/src/generated/', 'backend/src/host/generated/', 'bench/results/', 'coverage/'] },
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
  // The module boundary (DESIGN.md, "Module boundary"): module code never imports the demo host,
  // and the demo host uses the module only through its public entry point.
  ...boundaryRules(),
  {
    files: ['frontend/src/**/*.{ts,vue}'],
    ignores: [`${MODULE}/**`],
    rules: { 'no-restricted-imports': ['error', { patterns: [toModuleInternals] }] },
  },
  ...[0, 1, 2, 3].map(moduleFiles),
);
