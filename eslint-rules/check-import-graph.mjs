/**
 * The import graph's two rules alone, without type information (seconds, not the full lint's ~45 s):
 * `node eslint-rules/check-import-graph.mjs DIR [PATTERN…]` lints DIR's files (default src workers tests
 * scripts) and prints one JSON line per problem ({ file, line, column, rule, message }); exit 1 if any.
 * tests/lint/import-graph.test.ts runs it on the tree and on small fixture trees.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import process from 'node:process';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { importGraphConfigs } from './import-graph.mjs';

const [dir = '.', ...patterns] = process.argv.slice(2);
const cwd = resolve(dir);
const project = ['tsconfig.json', 'tsconfig.web.json'].filter((f) => existsSync(join(cwd, f))).map((f) => join(cwd, f));
const eslint = new ESLint({
  cwd,
  overrideConfigFile: true,
  overrideConfig: [
    { ignores: ['dist/**', 'node_modules/**', '**/*.d.ts'] },
    // The rules' own plugins stay registered so that disable comments naming their rules still parse.
    { files: ['**/*.ts'], languageOptions: { parser: tseslint.parser }, plugins: { '@typescript-eslint': tseslint.plugin } },
    { linterOptions: { reportUnusedDisableDirectives: 'off' } },
    ...importGraphConfigs(cwd, project.length > 0 ? project : undefined),
  ],
});
const results = await eslint.lintFiles(
  patterns.length > 0 ? patterns : ['src', 'workers', 'tests', 'scripts'].filter((d) => existsSync(join(cwd, d))),
);
let problems = 0;
for (const r of results) {
  for (const m of r.messages) {
    problems++;
    process.stdout.write(`${JSON.stringify({ file: r.filePath, line: m.line, column: m.column, rule: m.ruleId, message: m.message })}\n`);
  }
}
process.exitCode = problems > 0 ? 1 : 0;
