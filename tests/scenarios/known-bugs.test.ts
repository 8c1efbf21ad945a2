/**
 * Discrepancies between klpsim and Linux found while re-expressing the selftests, kept as regression
 * tests now that they are fixed. (Which patches forcing marks follows the scenario's kernel_version:
 * every patch before 5.18, only the patches being removed since: see README "Kernel versions".)
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

const fixture = (f: string): string => resolve(__dirname, 'fixtures', f);

describe('known klpsim discrepancies', () => {
  // src/kernel/modules.ts lsmod(): rows are `padEnd(19) + ' ' + padStart(6)`, kmod's are
  // "%-19s %8ld  %d" (two columns narrower than the header's "Size"); and a livepatch module's
  // "Used by" stayed 0 although klp_enable_patch() takes a module reference (Used by 1).
  it('lsmod prints kmod columns and the livepatch reference', async () => {
    const r = await runScenario(fixture('lsmod.yaml'));
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
  });
});
