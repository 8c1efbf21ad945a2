/**
 * The selftest scenarios with their modules in C (scenarios/*-c.yaml, sources in scenarios/c/): gcc builds
 * the modules against klpsim's headers, and the kernel log, filtered as the selftests' check_result()
 * filters it, is the same upstream block as the YAML scenarios' (tests/scenarios/expected/), line for line.
 */
import { compareSections, expectClean, expected, filterLog, runScenario, ScenarioRun } from '../scenarios/helpers';
import { describeGcc } from './gcc-helpers';

describeGcc('test-livepatch.sh: basic function patching, module in C (scenarios/test-livepatch-basic-c.yaml)', () => {
  let c: ScenarioRun;
  let asm: ScenarioRun;
  beforeAll(async () => {
    c = await runScenario('test-livepatch-basic-c.yaml');
    asm = await runScenario('test-livepatch-basic.yaml');
  });
  expectClean(() => c);
  it('logs what the module written in assembly logs', () => {
    expect(filterLog(c.log)).toEqual(filterLog(asm.log));
    expect(filterLog(c.log)).toContain("livepatch: 'test_klp_livepatch': patching complete");
  });
});

describeGcc('test-livepatch.sh: atomic replace livepatch, modules in C (scenarios/test-livepatch-atomic-replace-c.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-livepatch-atomic-replace-c.yaml');
  });
  expectClean(() => r);
  it('logs the upstream expected block', () => {
    expect(filterLog(r.log)).toEqual(expected('test-livepatch-atomic-replace.dmesg'));
  });
});

describeGcc('test-callbacks.sh, modules in C (scenarios/test-callbacks-c.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-callbacks-c.yaml');
  });
  expectClean(() => r);
  compareSections(
    'test-callbacks',
    [
      'target module before livepatch',
      'module_coming notifier',
      'module_going notifier',
      'module_coming and module_going notifiers',
      'target module not present',
      'pre-patch callback -ENODEV',
      'module_coming + pre-patch callback -ENODEV',
      'multiple livepatches',
      'atomic replace',
    ],
    () => r,
  );
});

describeGcc('test-callbacks.sh, busy target, modules in C (scenarios/test-callbacks-busy-c.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-callbacks-busy-c.yaml');
  });
  expectClean(() => r);
  compareSections('test-callbacks', ['multiple target modules', 'busy target module'], () => r);
  it('the work item is a kworker thread that sleeps in the replaced function', () => {
    const start = r.log.indexOf('test_klp_callbacks_busy: busymod_work_func, sleeping 10 seconds ...');
    const end = r.log.indexOf('test_klp_callbacks_busy: busymod_work_func exit', start);
    expect(start).toBeGreaterThanOrEqual(0);
    // cancel_delayed_work_sync() in the module's exit waits for the whole msleep(10000).
    expect(r.times[end] - r.times[start]).toBeGreaterThanOrEqual(10_000_000_000);
  });
});

describeGcc(
  'test-callbacks.sh of 6.12, busy target (block_transition, a completion), modules in C (scenarios/test-callbacks-busy-block-c.yaml)',
  () => {
    let r: ScenarioRun;
    beforeAll(async () => {
      r = await runScenario('test-callbacks-busy-block-c.yaml');
    });
    expectClean(() => r);
    compareSections('test-callbacks-6.12', ['multiple target modules', 'busy target module'], () => r);
    it("init waits on the completion for the work's first line; the work polls the flag until the module's exit clears it", () => {
      const enter = r.log.lastIndexOf('test_klp_callbacks_busy: busymod_work_func enter');
      const init = r.log.lastIndexOf('test_klp_callbacks_busy: test_klp_callbacks_busy_init');
      const lp = r.log.indexOf('% modprobe test_klp_callbacks_demo', enter);
      expect(init).toBeGreaterThanOrEqual(0);
      expect(enter).toBeGreaterThan(init);
      // modprobe of the busy module returned only after complete(): the next command's line comes later.
      expect(lp).toBeGreaterThan(enter);
      const rmmod = r.log.lastIndexOf('% rmmod test_klp_callbacks_busy');
      const exit = r.log.lastIndexOf('test_klp_callbacks_busy: busymod_work_func exit');
      // The work ran (blocking the transition) from "enter" to the rmmod: seconds of simulated time.
      expect(exit).toBeGreaterThan(rmmod);
      expect(r.times[exit] - r.times[enter]).toBeGreaterThan(1_000_000_000);
    });
  },
);
