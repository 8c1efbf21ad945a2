/**
 * The scenarios that re-express the selftests of issue 15 (test-sysfs.sh's stack_order cases,
 * test-state.sh, …) run clean, and each part's kernel log, filtered as check_result() filters it, is the
 * upstream expected block line for line (tests/scenarios/expected/<scenario>/<title>.dmesg), as
 * tests/scenarios/selftests-dmesg.test.ts does for the older selftests.
 */
import { compareSections, expectClean, expected, filterLog, runScenario, ScenarioRun } from '../scenarios/helpers';
import { describeGcc } from '../c/gcc-helpers';

describe('test-sysfs.sh, stack_order (scenarios/test-sysfs-stack-order.yaml, 6.13)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-sysfs-stack-order.yaml');
  });
  expectClean(() => r);
  compareSections('test-sysfs-stack-order', ['sysfs test', 'sysfs test stack_order value'], () => r);
});

describe('test-state.sh (scenarios/test-state.yaml, 5.5)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-state.yaml');
  });
  expectClean(() => r);
  compareSections(
    'test-state',
    [
      'system state modification',
      'taking over system state modification',
      'compatible cumulative livepatches',
      'incompatible cumulative livepatches',
    ],
    () => r,
  );
});

describe('test-shadow-vars.sh (scenarios/test-shadow-vars.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-shadow-vars.yaml');
  });
  expectClean(() => r);
  it('logs the upstream expected block', () => {
    expect(filterLog(r.log)).toEqual(expected('test-shadow-vars.dmesg'));
  });
  it('runs the same on worker threads', async () => {
    const w = await runScenario('test-shadow-vars.yaml', { deterministic: false });
    expect(w.result.exitCode).toBe(0);
    expect(filterLog(w.log)).toEqual(expected('test-shadow-vars.dmesg'));
  });
});

describe('test-ftrace.sh (scenarios/test-ftrace.yaml, 6.12)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-ftrace.yaml');
  });
  expectClean(() => r);
  compareSections(
    'test-ftrace',
    [
      'livepatch interaction with ftrace_enabled sysctl',
      'trace livepatched function and check that the live patch remains in effect',
      'livepatch a traced function and check that the live patch remains in effect',
    ],
    () => r,
  );
});

const KPROBE_TESTS = [
  'livepatch interaction with kprobed function with post_handler',
  'livepatch interaction with kprobed function without post_handler',
];

describe('test-kprobe.sh (scenarios/test-kprobe.yaml, 6.12)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-kprobe.yaml');
  });
  expectClean(() => r);
  compareSections('test-kprobe', KPROBE_TESTS, () => r);
});

describeGcc('test-kprobe.sh, modules in C (scenarios/test-kprobe-c.yaml, 6.12)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-kprobe-c.yaml');
  });
  expectClean(() => r);
  compareSections('test-kprobe', KPROBE_TESTS, () => r);
});

describeGcc('test-state.sh, modules in C (scenarios/test-state-c.yaml, 5.5)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-state-c.yaml');
  });
  expectClean(() => r);
  compareSections(
    'test-state',
    [
      'system state modification',
      'taking over system state modification',
      'compatible cumulative livepatches',
      'incompatible cumulative livepatches',
    ],
    () => r,
  );
});

describeGcc('test-shadow-vars.sh, module in C (scenarios/test-shadow-vars-c.yaml)', () => {
  let r: ScenarioRun;
  beforeAll(async () => {
    r = await runScenario('test-shadow-vars-c.yaml');
  });
  expectClean(() => r);
  it('logs the upstream expected block', () => {
    expect(filterLog(r.log)).toEqual(expected('test-shadow-vars.dmesg'));
  });
});
