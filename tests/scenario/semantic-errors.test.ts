/** The checks that need the whole scenario, and the alternatives (actions, steps) the schema offers. */
import { errorsOf, fixtureErrors } from './helpers';

describe('semantic checks', () => {
  it('reports each problem of semantic-errors.yaml at the field that names it', () => {
    expect(fixtureErrors('semantic-errors.yaml')).toEqual([
      "semantic-errors.yaml:6:5: 'printk' is a kernel service and cannot be redefined",
      "semantic-errors.yaml:12:15: parameter name 'object' is reserved for ${object}",
      "semantic-errors.yaml:12:26: parameter 'f' clashes with symbol 'f' of module m",
      "semantic-errors.yaml:17:9: 'return' must be the last action",
      "semantic-errors.yaml:18:20: unterminated '${'",
      "semantic-errors.yaml:19:13: 'return' is only allowed in init and pre_patch callbacks",
      "semantic-errors.yaml:21:17: replace must be 0, 1, true, false or one ${param}, got '${n} ${n}'",
      "semantic-errors.yaml:23:9: object 'm' is the livepatch module itself",
      "semantic-errors.yaml:26:27: 'return' is only allowed in init and pre_patch callbacks",
      "semantic-errors.yaml:27:36: return needs an integer or ${param}, got 'nope'",
      "semantic-errors.yaml:28:3: 'vmlinux' is the kernel's object name, not a module name",
      "semantic-errors.yaml:29:3: invalid name 'bad-name': a module name has only letters, digits and _ (modprobe turns '-' into '_')",
      'semantic-errors.yaml:31:21: cpu 2 is out of range: the scenario has 2 CPUs (0-1)',
      "semantic-errors.yaml:31:66: task 't' is already defined in tasks",
      'semantic-errors.yaml:31:96: cpu 5 is out of range: the scenario has 2 CPUs (0-1)',
      "semantic-errors.yaml:32:25: unknown key 'frob' (expected one of: printk, return, sleep_ms, call, start_task, stop_task, klp_get_state, register_kprobe, unregister_kprobe, klp_get_prev_state)",
      'semantic-errors.yaml:33:31: expected a string or a mapping, got the number 5',
      'semantic-errors.yaml:33:36: expected one of the keys: printk, return, sleep_ms, call, start_task, stop_task, klp_get_state, register_kprobe, unregister_kprobe, klp_get_prev_state',
      'semantic-errors.yaml:33:50: expected a string, got the number 1',
      'semantic-errors.yaml:33:55: expected a mapping, got the number 7',
      'semantic-errors.yaml:33:83: has more than 6 items',
      'semantic-errors.yaml:34:21: needs at least 1 item',
      'semantic-errors.yaml:34:32: must be at least 1, got the number 0',
      "semantic-errors.yaml:35:36: unknown task 't/0'",
      "semantic-errors.yaml:35:56: unknown task 'reader'",
      "semantic-errors.yaml:37:15: 'stdout' needs 'sh' in the same expect",
      'semantic-errors.yaml:38:13: expect needs at least one of: sh, dmesg, patched, nops, ftrace_ops',
      "semantic-errors.yaml:39:26: unknown function 'nothing'",
      "semantic-errors.yaml:40:18: unknown key 'stdout'",
      'semantic-errors.yaml:41:5: expected a mapping, got the number 5',
      "semantic-errors.yaml:42:7: unknown key 'frob' (expected one of: sh, wait, sleep_ms, expect)",
    ]);
  });

  it('refuses more tasks than the machine holds at once, at the count that crosses the limit', () => {
    const text =
      'name: x\nkernel:\n  functions:\n    f: |\n      ret\ntasks:\n  - { name: a, count: 200, run: [ { call: f } ] }\n  - name: b\n    count: 100\n    run: [ { call: f } ]\n  - { name: c, run: [ { call: f } ] }\n';
    expect(errorsOf(text)).toEqual(['test.yaml:9:12: too many tasks: the machine holds at most 256 tasks at once, and these make 300']);
  });
});

describe('module parameter defaults', () => {
  it('refuses an int default that does not fit a 32-bit int, at its value', () => {
    const text = 'name: x\nmodules:\n  m:\n    params: { big: 3000000000, ok: -2147483648, flag: true }\n';
    expect(errorsOf(text)).toEqual([
      "test.yaml:4:20: default 3000000000 does not fit parameter 'big' of type int (a 32-bit int: -2147483648 to 2147483647)",
    ]);
  });

  it('refuses a string parameter as livepatch replace (it has no truth value)', () => {
    const text = 'name: x\nmodules:\n  lp:\n    params: { replace: "yes" }\n    livepatch:\n      replace: ${replace}\n      objects: {}\n';
    expect(errorsOf(text)).toEqual(["test.yaml:6:16: replace needs an int or bool parameter, and '${replace}' is a string (charp)"]);
  });
});
