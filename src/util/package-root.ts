/**
 * The directory of klpsim's package.json, found by walking up from this file: the same answer whether
 * the code runs from source (src/util) or compiled (dist/src/util), for files shipped beside the code
 * (scenarios/).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'scenarios'))) return dir;
    if (dirname(dir) === dir) throw new Error(`klpsim: cannot find the package root above ${from}`);
  }
}
