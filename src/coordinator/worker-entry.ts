/**
 * Where a worker's entry point is, solved once for every way the project runs: compiled (`dist/`, as
 * `npm start` and the installed `klpsim` binary run) the `.js` file sits next to the compiled code; from
 * source (jest, tsx) only the `.ts` file exists, and the worker loads it through tsx's CommonJS hook.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

export interface WorkerEntry {
  file: string;
  execArgv: string[];
}

export function workerEntry(name: string): WorkerEntry {
  const js = resolve(__dirname, '../../workers', `${name}.js`);
  if (existsSync(js)) return { file: js, execArgv: [] };
  // Only a source checkout gets here, and tsx is a dev dependency: an installed package always has the .js.
  try {
    require.resolve('tsx/cjs');
  } catch {
    throw new Error(`klpsim: ${js} is missing, and tsx (a dev dependency) is not installed to load the .ts source: run \`npm run build\``);
  }
  return { file: resolve(__dirname, '../../workers', `${name}.ts`), execArgv: ['--require', 'tsx/cjs'] };
}

/** A module to `require()` inside a worker: the compiled .js if present, else the .ts source (tsx). */
export function workerModule(fromDir: string, relPath: string): string {
  const js = resolve(fromDir, `${relPath}.js`);
  return existsSync(js) ? js : resolve(fromDir, `${relPath}.ts`);
}
