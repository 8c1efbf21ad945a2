/**
 * The two most important selftest scenarios with CPUs on real worker threads (not lockstep): the
 * same expected kernel log, whatever the interleaving.
 */
import { expected, filterLog, runScenario, sections } from './helpers';

describe('in worker mode', () => {
  it('test-livepatch-atomic-replace.yaml holds and logs the upstream block', async () => {
    const r = await runScenario('test-livepatch-atomic-replace.yaml', { deterministic: false });
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
    expect(filterLog(r.log)).toEqual(expected('test-livepatch-atomic-replace.dmesg'));
  });

  it('test-callbacks-busy.yaml holds and logs the upstream blocks', async () => {
    const r = await runScenario('test-callbacks-busy.yaml', { deterministic: false });
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.exitCode).toBe(0);
    const s = sections(r.log);
    expect(s.get('multiple target modules')).toEqual(expected('test-callbacks/multiple-target-modules.dmesg'));
    expect(s.get('busy target module')).toEqual(expected('test-callbacks/busy-target-module.dmesg'));
  });
});
