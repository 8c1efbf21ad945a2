/**
 * C modules behave as kernel/module.c loads them (tests/c/fixtures/module-semantics.yaml): module_param()
 * of int, bool and charp through modprobe and sysfs; THIS_MODULE's state COMING in init and GOING in exit;
 * current->comm and ->pid; init's return value (negative fails modprobe, positive is warned about); a
 * module with no exit cannot be removed; kmalloc and the string functions; a kthread stopped by the
 * exit; klp_enable_patch() from a module not marked as a livepatch.
 */
import { resolve } from 'node:path';
import { runScenario, ScenarioRun } from '../scenarios/helpers';
import { describeGcc } from './gcc-helpers';

describeGcc('C modules (tests/c/fixtures/module-semantics.yaml)', () => {
  let r: ScenarioRun;
  const after = (cmd: string): string[] => {
    const i = r.log.indexOf(`% ${cmd}`);
    expect(i).toBeGreaterThanOrEqual(0);
    const next = r.log.findIndex((l, j) => j > i && l.startsWith('% '));
    return r.log.slice(i + 1, next < 0 ? undefined : next);
  };
  beforeAll(async () => {
    r = await runScenario(resolve(__dirname, 'fixtures/module-semantics.yaml'));
  });

  it('runs without failed expectations or violations', () => {
    expect(r.result.failures.map((f) => `${f.pos.line}: ${f.message}`)).toEqual([]);
    expect(r.result.violations).toBe(0);
  });

  it('passes modprobe arguments to the module_param() variables; init sees state COMING and modprobe as current', () => {
    expect(after('modprobe params_mod count=7 flag label=abc')).toEqual([
      'params_mod: init: count=7 flag=1 label=abc state=1 comm=modprobe pid_ok=1',
    ]);
  });

  it('writes sysfs parameter files into the variables; exit sees state GOING and its name', () => {
    expect(after('rmmod params_mod')).toEqual(['params_mod: exit: count=9 flag=1 label=xyz state=2 name=params_mod']);
  });

  it('refuses a value its parameter type cannot parse', () => {
    expect(after('modprobe params_mod count=abc')).toEqual([
      "params_mod: `abc' invalid for parameter `count'",
      "modprobe: ERROR: could not insert 'params_mod': Invalid argument",
    ]);
  });

  it("fails modprobe with init's negative errno, warns about a positive one", () => {
    expect(after('modprobe fail_mod')).toEqual(["modprobe: ERROR: could not insert 'fail_mod': No such device"]);
    expect(after('modprobe fail_mod ret=5')).toEqual([
      "do_init_module: 'fail_mod'->init suspiciously returned 5, it should follow 0/-E convention",
      'do_init_module: loading module anyway...',
    ]);
  });

  it('cannot remove a module that has an init but no exit', () => {
    expect(after('rmmod fail_mod')).toEqual(['rmmod: ERROR: could not remove module fail_mod: Device or resource busy']);
  });

  it('serves kmalloc and the string functions; the exit stops the kthread it started', () => {
    expect(after('modprobe thread_mod')).toEqual(['thread_mod: buf=hello from kmalloc len=18 zero=0']);
    expect(after('rmmod thread_mod')).toEqual(['thread_mod: worker thread_mod_worker stops after looping', 'thread_mod: exit']);
  });

  it('refuses klp_enable_patch() from a module not marked as a livepatch module', () => {
    expect(after('modprobe not_livepatch')).toEqual([
      'livepatch: module not_livepatch is not marked as a livepatch module',
      "modprobe: ERROR: could not insert 'not_livepatch': Invalid argument",
    ]);
  });
});
