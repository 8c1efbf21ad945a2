/** Tests that need gcc skip loudly without it (CI installs it: .ci/run). */
import { spawnSync } from 'node:child_process';

export const HAVE_GCC = !spawnSync('gcc', ['--version']).error;
export const HAVE_READELF = !spawnSync('readelf', ['--version']).error;

/** `describe`, or a skipped one with a message saying why. */
export function describeWithGcc(name: string, fn: () => void): void {
  if (HAVE_GCC) {
    describe(name, fn);
    return;
  }
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED (no gcc on this machine; apt-get install gcc): ${name}`);
  describe.skip(name, fn);
}
