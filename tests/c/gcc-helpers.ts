/**
 * gcc for the C tests: Kbuild's x86-64 code-generation flags against klpsim's include/, and a loud skip
 * where gcc is missing (CI installs it; a laptop without it still runs the rest of the suite).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../..');
export const INCLUDE = path.join(REPO, 'include');
export const C_SCENARIOS = path.join(REPO, 'scenarios', 'c');

export const HAVE_GCC = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** `describe`, or a skip that says why, once, where gcc is absent. */
export const describeGcc: jest.Describe = HAVE_GCC
  ? describe
  : (((name: string, fn: () => void) => {
      describe.skip(`${name} (SKIPPED: gcc is not installed; apt-get install gcc)`, fn);
      process.stderr.write(`tests/c: gcc is not installed, skipping "${name}"\n`);
    }) as unknown as jest.Describe);

/** Kbuild's flags for an x86-64 module (with the error flags that make C's common mistakes errors). */
export const KERNEL_CFLAGS = [
  '-std=gnu11',
  '-nostdinc',
  `-I${INCLUDE}`,
  '-D__KERNEL__',
  '-DMODULE',
  '-O2',
  '-pg',
  '-mfentry',
  '-mrecord-mcount',
  '-mnop-mcount',
  '-mno-red-zone',
  '-mno-sse',
  '-mno-mmx',
  '-mno-80387',
  '-fno-asynchronous-unwind-tables',
  '-fcf-protection=none',
  '-fno-stack-protector',
  '-fno-pic',
  '-fno-pie',
  '-ffreestanding',
  '-Wall',
  '-Werror=implicit-function-declaration',
  '-Werror=implicit-int',
  '-Werror=return-type',
  '-Werror=incompatible-pointer-types',
];

/** gcc's messages in the C locale: ASCII quotes, as a user's terminal and these tests read them. */
const GCC_ENV = { ...process.env, LC_ALL: 'C' };

export interface GccResult {
  status: number;
  stderr: string;
}

/** Runs gcc on `source` (text, named `name` in its messages) with the kernel flags and `extra`. */
export function gcc(source: string, name: string, extra: string[], cwd: string): GccResult {
  const r = spawnSync('gcc', [...KERNEL_CFLAGS, ...extra, '-x', 'c', '-', '-o', extra.includes('-fsyntax-only') ? '/dev/null' : 'out.o'], {
    input: `# 1 "${name}"\n${source}`,
    cwd,
    encoding: 'utf8',
    env: GCC_ENV,
  });
  return { status: r.status ?? -1, stderr: r.stderr };
}

/** Compiles the file at `file` to `out` with the kernel flags, as Kbuild names the module. */
export function gccFile(file: string, out: string, modname: string): GccResult {
  const r = spawnSync('gcc', [...KERNEL_CFLAGS, `-DKBUILD_MODNAME="${modname}"`, '-c', file, '-o', out], {
    encoding: 'utf8',
    env: GCC_ENV,
  });
  return { status: r.status ?? -1, stderr: r.stderr };
}
