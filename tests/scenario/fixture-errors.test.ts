/**
 * Each class of bad input, as a real broken file, with the exact message and the exact position `klpsim
 * check` prints (SPEC section 1). Positions were checked by hand against the fixture text.
 */
import { join } from 'path';
import { loadScenarioFile, ScenarioError } from '../../src/scenario';
import { FIXTURES, fixtureErrors } from './helpers';

describe('scenario errors, one fixture per class', () => {
  it("YAML syntax errors, with yaml's position", () => {
    expect(fixtureErrors('yaml-syntax.yaml')).toEqual([
      'yaml-syntax.yaml:9:1: YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ]);
  });

  it('unknown keys, at the key', () => {
    expect(fixtureErrors('unknown-key.yaml')).toEqual([
      "unknown-key.yaml:2:1: unknown key 'cpu'",
      "unknown-key.yaml:9:5: unknown key 'runs'",
      "unknown-key.yaml:12:25: unknown key 'timeout'",
    ]);
  });

  it('wrong types and out-of-range values, at the value', () => {
    expect(fixtureErrors('wrong-type.yaml')).toEqual([
      'wrong-type.yaml:2:7: must be at most 64, got the number 65',
      "wrong-type.yaml:3:7: expected an integer, got the string 'one'",
      'wrong-type.yaml:10:12: expected an integer, got 2.5',
      "wrong-type.yaml:11:37: expected an integer or one ${param}, got the string 'soon'",
      "wrong-type.yaml:13:11: expected 'transition', got the string 'forever'",
      'wrong-type.yaml:14:21: must be at least 0, got the number -1',
    ]);
  });

  it('a missing name, at the mapping that lacks it', () => {
    expect(fixtureErrors('missing-name.yaml')).toEqual([
      "missing-name.yaml:1:1: missing required key 'name'",
      "missing-name.yaml:3:5: missing required key 'name'",
    ]);
  });

  it("assembly errors at the bad token's file line and column, in | blocks and quoted scalars", () => {
    expect(fixtureErrors('asm-error.yaml')).toEqual([
      // `        movq rax, 1`: the block is indented 6, the line 2 more: the mnemonic is at column 9.
      "asm-error.yaml:7:9: in function cmdline_proc_show: unknown mnemonic 'movq'",
      // `    msg: '.asciz "a\n" junk'`: `junk` is at column 24 of the file (the \n is two characters there).
      "asm-error.yaml:12:24: in data symbol msg: unexpected 'junk' after string",
      "asm-error.yaml:14:23: in function other: unknown symbol 'nowhere'",
    ]);
  });

  it('unknown functions in call: and proc:, and data called as a function', () => {
    expect(fixtureErrors('unknown-function.yaml')).toEqual([
      "unknown-function.yaml:8:14: unknown function 'cmdline_proc_show'",
      "unknown-function.yaml:13:15: unknown function 'foo'",
      "unknown-function.yaml:14:23: 'msg' is a data symbol, not a function",
    ]);
  });

  it('${param} references to missing parameters and outside modules, at the reference', () => {
    expect(fixtureErrors('bad-param.yaml')).toEqual([
      "bad-param.yaml:6:74: unknown parameter '${dealy}' (module test_klp_callbacks_mod has: delay, count)",
      "bad-param.yaml:9:22: unknown parameter '${nope}' (module test_klp_callbacks_mod has: delay, count)",
      "bad-param.yaml:12:39: parameter reference '${delay}' outside a module",
    ]);
  });

  it('modprobe / rmmod of a module the scenario does not define, at the name in the command', () => {
    expect(fixtureErrors('unknown-module.yaml')).toEqual([
      "unknown-module.yaml:6:18: modprobe: unknown module 'test_klp_livepatchh'",
      // rmmod normalises '-' to '_' as the real one does.
      "unknown-module.yaml:7:15: rmmod: unknown module 'test_klp_nothing'",
    ]);
  });

  it('unknown shell commands and shell syntax errors, at the column inside the command', () => {
    expect(fixtureErrors('unknown-command.yaml')).toEqual([
      "unknown-command.yaml:3:9: unknown command 'insmode' (supported: modprobe, insmod, rmmod, lsmod, echo, cat, ls, grep, sysctl)",
      'unknown-command.yaml:4:17: pipes are not supported',
      'unknown-command.yaml:5:23: cat: missing file operand',
      'unknown-command.yaml:6:14: unterminated single quote',
    ]);
  });

  it('bad livepatch objects and patched functions', () => {
    expect(fixtureErrors('bad-livepatch-object.yaml')).toEqual([
      "bad-livepatch-object.yaml:11:16: replace must be 0, 1, true, false or ${param}, got 'maybe'",
      "bad-livepatch-object.yaml:15:13: unknown function 'cmdline_proc_shw' in object 'vmlinux'",
      "bad-livepatch-object.yaml:17:13: 'banner' in object 'vmlinux' is a data symbol, not a function",
      "bad-livepatch-object.yaml:20:9: unknown object 'test_klp_nothing': not vmlinux or a module in modules",
    ]);
  });

  it('reports every kind of error of one file at once, in file order', () => {
    expect(fixtureErrors('many-errors.yaml')).toEqual([
      'many-errors.yaml:2:7: must be at least 1, got the number 0',
      "many-errors.yaml:3:1: unknown key 'colour'",
      "many-errors.yaml:8:7: in function f: unknown mnemonic 'frob'",
      "many-errors.yaml:13:20: unknown function 'g'",
      "many-errors.yaml:13:38: unknown task 'writer'",
      "many-errors.yaml:15:18: modprobe: unknown module 'nothing'",
      "many-errors.yaml:16:9: unknown command 'frob' (supported: modprobe, insmod, rmmod, lsmod, echo, cat, ls, grep, sysctl)",
    ]);
  });

  it('loadScenarioFile names the file, and reports an unreadable one at 1:1', () => {
    const path = join(FIXTURES, 'unknown-key.yaml');
    expect(() => loadScenarioFile(path)).toThrow(`${path}:2:1: unknown key 'cpu'`);
    const missing = join(FIXTURES, 'no-such-file.yaml');
    let err: unknown;
    try {
      loadScenarioFile(missing);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const se = err as ScenarioError;
    expect(se.diagnostics).toHaveLength(1);
    expect(se.diagnostics[0]?.pos).toEqual({ file: missing, line: 1, col: 1 });
    expect(se.message).toMatch(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1:1: cannot read file: ENOENT`));
  });
});
