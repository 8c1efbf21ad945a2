/**
 * scenarios/atomic-replace-no-nop-removal.yaml asserts the kernel's behaviour before "livepatch: Remove
 * Nop structures when unused"; it says so itself (`nop_removal: false`), so it runs as it is.
 */
import { runScenario } from './helpers';

describe('atomic-replace-no-nop-removal.yaml', () => {
  it('holds as it is (nop_removal: false): the NOPs stay on their func_stacks until the patch is disabled', async () => {
    const r = await runScenario('atomic-replace-no-nop-removal.yaml');
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
    const c = r.log.indexOf("livepatch: 'klp_patch_c': patching complete");
    expect(c).toBeGreaterThan(r.log.indexOf("livepatch: 'klp_patch_c': completing patching transition"));
  });

  it('a scenario asking for the pre-seed kernel cannot be given NOP removal; the flag only turns it off', async () => {
    const r = await runScenario('atomic-replace-no-nop-removal.yaml', { nopRemoval: true });
    expect(r.result.exitCode).toBe(0);
  });
});
