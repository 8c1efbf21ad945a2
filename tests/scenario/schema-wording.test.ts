/**
 * The schema's words agree with what it accepts: `{ code }` alone is a livepatch func (sympos defaults to
 * 0, as in the kernel), a mapping alternative that lacks a required key says which, the symbol-name rule
 * says what `.loop` breaks, and YAML merge keys (`<<:`) work, with positions inside merged content
 * pointing where it is written.
 */
import { errorsOf } from './helpers';
import { parseScenario } from '../../src/scenario';

const lp = (entry: string): string => `name: t
kernel:
  functions:
    f: |
      ret
modules:
  lp:
    livepatch:
      objects:
        vmlinux:
          funcs:
            f: ${entry}
`;

describe('scenario schema wording', () => {
  it('accepts { code } without sympos, and takes sympos 0 for it', () => {
    const s = parseScenario(lp('{ code: "xor eax, eax\\nret" }'), 't.yaml');
    const funcs = s.modules[0].livepatch?.objects[0].funcs ?? [];
    expect(funcs.map((b) => [b.name, b.sympos ?? 0])).toEqual([['f', 0]]);
  });

  it('says which key a { sympos, code } entry lacks, and which it does not know', () => {
    expect(errorsOf(lp('{ sympos: 1 }'), 't.yaml')).toEqual(["t.yaml:12:16: missing required key 'code'"]);
    expect(errorsOf(lp('{ sympos: 1, cod: ret }'), 't.yaml')).toEqual([
      "t.yaml:12:16: missing required key 'code'",
      "t.yaml:12:29: unknown key 'cod'",
    ]);
  });

  it('says which key call: { func, args } lacks', () => {
    const text = 'name: t\nkernel:\n  functions:\n    f: ret\ntasks:\n  - name: a\n    run: [ { call: { args: [1] } } ]\n';
    expect(errorsOf(text, 't.yaml')).toEqual(["t.yaml:7:20: missing required key 'func'"]);
  });

  it('refuses .loop with a rule that .loop breaks', () => {
    const text = 'name: t\nkernel:\n  functions:\n    .loop: ret\n    f.cold: ret\n';
    expect(errorsOf(text, 't.yaml')).toEqual([
      "t.yaml:4:5: invalid name '.loop': a symbol name has letters, digits, _ and ., and starts with a letter or _",
    ]);
  });

  it('takes YAML merge keys', () => {
    const text = `name: merged
kernel:
  functions:
    f: ret
tasks:
  - &task { name: a, cpu: 0, run: [ { call: f }, { sleep_ms: 1 } ] }
  - <<: *task
    name: b
    cpu: 1
  - { <<: [ *task ], name: c }
`;
    const s = parseScenario(text, 't.yaml');
    expect(s.tasks.map((t) => [t.name, t.cpu, t.run.length])).toEqual([
      ['a', 0, 2],
      ['b', 1, 2],
      ['c', 0, 2],
    ]);
  });

  it('places errors inside merged mappings where they are written', () => {
    const text = `name: merged
tasks:
  - &task { name: a, cpu: 99, run: [ { sleep_ms: 1 } ] }
  - { <<: *task, name: b }
modules:
  m1:
    functions: &common
      g: |
        movq rax, 1
  m2:
    functions:
      <<: *common
      h: ret
`;
    // (both uses of each merged mapping report the same problem at the same place: printed once)
    expect(errorsOf(text, 't.yaml')).toEqual([
      't.yaml:3:27: must be at most 63, got the number 99',
      "t.yaml:9:9: in function g: unknown mnemonic 'movq'",
    ]);
  });
});
