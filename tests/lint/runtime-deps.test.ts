/**
 * What an installed klpsim needs at run time is in `dependencies`, and nothing more: the shipped code
 * (src/, workers/, compiled to dist/) imports only runtime dependencies and Node's built-ins, and tsx —
 * which loads `.ts` worker files when running from source, i.e. only under jest — is a dev dependency,
 * so `npm install klpsim` does not bring esbuild along.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { workerEntry } from '../../src/coordinator/worker-entry';

const ROOT = resolve(__dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The package a bare specifier names (`rxjs/operators` -> rxjs, `@scope/x/y` -> @scope/x). */
const packageOf = (spec: string): string =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
const builtin = (spec: string): boolean => spec.startsWith('node:') || builtinModules.includes(packageOf(spec));

describe('runtime dependencies', () => {
  it('tsx is a dev dependency only', () => {
    expect(pkg.dependencies).not.toHaveProperty('tsx');
    expect(pkg.devDependencies).toHaveProperty('tsx');
  });

  it('the shipped code imports only runtime dependencies and built-ins', () => {
    const wrong: string[] = [];
    for (const file of [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'workers'))]) {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      for (const { fileName: spec } of importedFiles) {
        if (spec.startsWith('.') || builtin(spec)) continue;
        if (!(packageOf(spec) in pkg.dependencies)) wrong.push(`${file.slice(ROOT.length + 1)}: ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a worker entry point runs without a loader once compiled; from source it goes through tsx', () => {
    // Under jest only the .ts exists next to src/ (dist/ is a separate tree): the source path is the one taken.
    expect(workerEntry('cpu')).toEqual({ file: join(ROOT, 'workers/cpu.ts'), execArgv: ['--require', 'tsx/cjs'] });
  });
});
