/**
 * The scenarios that re-express the kernel's livepatch selftests (tools/testing/selftests/livepatch/)
 * run without a failed expectation, and their kernel log, filtered as the selftests' check_result()
 * filters it, is the upstream expected block line for line (tests/scenarios/expected/). Scenarios with
 * several selftests mark each with a `===== TEST: title =====` line; each part is compared with
 * expected/<scenario>/<title>.dmesg.
 */
import { compareSections, expectClean, expected, filterLog, runScenario, ScenarioRun } from './helpers';

describe('test-livepatch.sh: atomic replace livepatch (scenarios/test-livepatch-atomic-replace.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-livepatch-atomic-replace.yaml');
  });
  expectClean(() => r);
  it('logs the upstream expected block', () => {
    expect(filterLog(r.log)).toEqual(expected('test-livepatch-atomic-replace.dmesg'));
  });
});

describe('test-callbacks.sh (scenarios/test-callbacks.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-callbacks.yaml');
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

describe('test-callbacks.sh, busy target (scenarios/test-callbacks-busy.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-callbacks-busy.yaml');
  });
  expectClean(() => r);
  compareSections('test-callbacks', ['multiple target modules', 'busy target module'], () => r);

  // klpsim bug: Machine.stopTask() (src/coordinator/machine.ts, "A sleeping task must be woken")
  // cuts short a task sleeping in msleep() — it sets wakeNs to now for any sleeping task, where
  // klpSendSignals() rightly spares tasks inside a call (InCall != 0). In the kernel msleep() sleeps
  // its whole time whatever wakes it, and cancel_delayed_work_sync() waits for it: the 10 s
  // busymod_work_func() ends 10 s after it started. klpsim ends it at the `rmmod`, ~6 s in.
  it('rmmod of the busy module waits for the full msleep() of its work item', () => {
    const start = r.log.indexOf('test_klp_callbacks_busy: busymod_work_func, sleeping 10 seconds ...');
    const end = r.log.indexOf('test_klp_callbacks_busy: busymod_work_func exit', start);
    expect(start).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    expect(r.times[end] - r.times[start]).toBeGreaterThanOrEqual(10_000_000_000);
  });
});

describe('test-sysfs.sh and the sysfs interface (scenarios/test-sysfs.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-sysfs.yaml');
  });
  expectClean(() => r);
  compareSections('test-sysfs', ['sysfs test', 'sysfs test object/patched', 'sysfs reads and write errors'], () => r);
  it('logs the shell errors of the failed writes', () => {
    // Right after its command line, as the selftests' harness logs a failed command's error.
    const i = r.log.indexOf('-bash: echo: write error: Device or resource busy');
    expect(r.log[i - 1]).toBe('% echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled');
    expect(r.log.filter((l) => l === '-bash: echo: write error: Invalid argument')).toHaveLength(4);
  });
});

describe('reversing a transition (scenarios/test-reverse.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-reverse.yaml');
  });
  expectClean(() => r);
  compareSections('test-reverse', ['reverse a patching transition', 'reverse an unpatching transition'], () => r);
});

describe('forcing a transition (scenarios/test-force.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-force.yaml');
  });
  expectClean(() => r);
  it('logs the expected lines', () => {
    expect(filterLog(r.log)).toEqual(expected('test-force.dmesg'));
  });
});
