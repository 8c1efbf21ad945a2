/**
 * Discrepancies between klpsim and Linux found while re-expressing the selftests; each test states the
 * kernel's behaviour and fails until klpsim is fixed (then turn `it.failing` into `it`).
 */
import { resolve } from 'path';
import { runScenario } from './helpers';

const fixture = (f: string): string => resolve(__dirname, 'fixtures', f);

describe('known klpsim discrepancies', () => {
  // src/kernel/modules.ts lsmod(): rows are `padEnd(19) + ' ' + padStart(6)`, kmod's are
  // "%-19s %8ld  %d" (two columns narrower than the header's "Size"); and a livepatch module's
  // refcnt stays 0 although klp_enable_patch() takes a module reference (Used by 1).
  it.failing('lsmod prints kmod columns and the livepatch reference', async () => {
    const r = await runScenario(fixture('lsmod.yaml'));
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
  });

  // src/livepatch/transition.ts klpForceTransition(): `for (const patch of s.patches) patch.forced = true`
  // is the kernel before 5.18; since commit "livepatch: Don't block removal of patches that are safe to
  // unload" only the patch being removed (target KLP_UNPATCHED) or, for a replace, the replaced
  // patches are marked forced. Forcing a patching transition of a non-replace patch must not pin it.
  it.failing('forcing a patching transition lets the patch module be removed after disabling (5.18+)', async () => {
    const r = await runScenario(fixture('force-patching.yaml'));
    expect(r.result.failures.map((f) => f.message)).toEqual([]);
  });
});
