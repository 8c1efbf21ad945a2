/**
 * scenarios/atomic-replace-no-nop-removal.yaml asserts the kernel's behaviour before "livepatch: Remove
 * Nop structures when unused" and is meant to be run with --no-nop-removal (nopRemoval: false).
 */
import { runScenario } from './helpers';

describe('atomic-replace-no-nop-removal.yaml', () => {
  it('holds with nopRemoval: false: the NOPs stay on their func_stacks until the patch is disabled', async () => {
    const r = await runScenario('atomic-replace-no-nop-removal.yaml', { nopRemoval: false });
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
    const c = r.log.indexOf("livepatch: 'klp_patch_c': patching complete");
    expect(c).toBeGreaterThan(r.log.indexOf("livepatch: 'klp_patch_c': completing patching transition"));
  });

  it('fails with NOP removal (the default): its nops/ftrace_ops expectations are specific to the flag', async () => {
    const r = await runScenario('atomic-replace-no-nop-removal.yaml');
    expect(r.result.exitCode).toBe(1);
    expect(r.result.failures.map((f) => f.message)).toContain('0 NOP klp_funcs exist, expected 3');
  });
});
