// ESLint (flat config): typescript-eslint with type information, and the import graph's two rules (no
// cycles, type-only imports included; imports point down the layers). Layout is prettier's alone
// (.prettierrc.json, `npm run format`): no stylistic rule is enabled here. `npm run lint` runs this; .ci/run
// runs that.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importGraphConfigs } from './eslint-rules/import-graph.mjs';

export default defineConfig(
  {
    ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'schema/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  ...importGraphConfigs(import.meta.dirname, [`${import.meta.dirname}/tsconfig.json`, `${import.meta.dirname}/tsconfig.web.json`]),
  {
    languageOptions: {
      parserOptions: {
        project: './tsconfig.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // The house convention for a parameter an interface requires but this implementation ignores.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Hot-path records (Insn, task and per-CPU words) hold const-enum values in plain number fields, so
      // they stay monomorphic and mirror typed-array words; comparing such a field with the enum is the intent.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      // `async` without `await` is how an implementation of a Promise-returning interface (CpuPlatform,
      // callbacks) turns a throw into a rejection.
      '@typescript-eslint/require-await': 'off',
      // The hook interfaces (CpuHooks, …) declare plain functions with method syntax: every hit is one of them.
      '@typescript-eslint/unbound-method': 'off',
      // The kernel log's KERN_SOH level prefix (\x01) and terminal escapes are control characters by design.
      'no-control-regex': 'off',
    },
  },
  {
    // The interpreter and decoder throw preallocated plain records, not Errors: no stack is captured on the
    // hot path (a #PF on every faulting access), and the CPU loop catches them by identity.
    files: ['src/x86/**'],
    rules: { '@typescript-eslint/only-throw-error': 'off' },
  },
  {
    // Library and command code writes through the streams it is given (the CLI's out/err, events$), and
    // tests through their assertions, never to the console; the benchmarks and scripts print their report,
    // and the page reports to the browser's console.
    ignores: ['src/bench/**', 'scripts/**', 'web/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // What dist/ runs must be a runtime dependency: an installed klpsim has no devDependencies (tsx among them).
    files: ['src/**', 'workers/**'],
    rules: { 'import-x/no-extraneous-dependencies': ['error', { devDependencies: false, includeTypes: true }] },
  },
  {
    // Tests read JSON (ndjson streams, HTTP bodies) whose shape the assertions themselves check.
    files: ['tests/**'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off', '@typescript-eslint/no-unsafe-member-access': 'off' },
  },
  {
    // The page's scripts are compiled for browsers by their own tsconfig.
    files: ['web/src/**'],
    languageOptions: { parserOptions: { project: './tsconfig.web.json' } },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
