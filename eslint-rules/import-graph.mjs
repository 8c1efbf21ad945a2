/**
 * The import graph's rules, shared by eslint.config.mjs and check-import-graph.mjs (the test's quick run
 * without type information): no import cycles, type-only imports included (no-import-cycle.mjs), and
 * imports point down the layers (import-x/no-restricted-paths zones built from LAYERS).
 */
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import noImportCycle from './no-import-cycle.mjs';

/**
 * The layers, lowest first (README "How it is built"). A directory may import its own files and any lower
 * layer, never a higher one nor a peer of its own layer. util/ is below everything; workers/, scripts/,
 * tests/ and the page's scripts (web/) sit above it all and may import anything.
 */
export const LAYERS = [
  ['src/util'],
  ['src/x86'],
  // C: the gcc driver, its cache and the ELF object reader (the loader in src/kernel links what it reads).
  ['src/c'],
  ['src/mem'],
  ['src/kernel'],
  ['src/livepatch'],
  ['src/coordinator'],
  ['src/scenario'],
  ['src/stress', 'src/serve'],
  ['src/cli'],
  // `klpsim bench` measures the commands (the watch renderer among them).
  ['src/bench'],
];

/** The entry points sit on top: the binary dispatches to every command, bench included; index.ts is the library. */
export const ENTRIES = ['src/cli/main.ts', 'src/index.ts'];

const ORDER = LAYERS.map((l) => l.map((d) => d.replace(/^src\//, '')).join('/')).join(' < ');

export const LAYER_ZONES = [
  ...LAYERS.flatMap((dirs, i) =>
    dirs.map((dir) => ({
      target: `./${dir}`,
      from: [...LAYERS.slice(i + 1).flat(), ...dirs.filter((d) => d !== dir)].map((d) => `./${d}`),
      message: `${dir} is below it: imports point down the layers (${ORDER}).`,
    })),
  ).filter((z) => z.from.length > 0),
  {
    target: './src',
    from: ['./tests', './workers', './scripts', './web'],
    message: 'src/ is the package: it never imports the tests, scripts or the page, and loads workers/ by path (worker-entry.ts).',
  },
];

/**
 * Config objects for the two rules. `root` is the directory the layer paths are relative to (the rule's
 * default is the process's cwd, wrong when eslint runs from a subdirectory); `project` is the tsconfig list
 * the resolver reads.
 */
export function importGraphConfigs(root, project) {
  return [
    {
      plugins: { 'import-x': importX, klpsim: { rules: { 'no-import-cycle': noImportCycle } } },
      settings: {
        'import-x/resolver-next': [createTypeScriptImportResolver({ project, noWarnOnMultipleProjects: true })],
      },
      rules: {
        'klpsim/no-import-cycle': 'error',
        'import-x/no-restricted-paths': ['error', { basePath: root, zones: LAYER_ZONES }],
      },
    },
    {
      files: ENTRIES,
      rules: { 'import-x/no-restricted-paths': ['error', { basePath: root, zones: LAYER_ZONES.filter((z) => z.target === './src') }] },
    },
  ];
}
