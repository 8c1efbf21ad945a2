/**
 * Machine limits (issue 11, item 10): what `check` passed used to end a run with `internal error:
 * kallsyms: table full` or `?:1:1: out of text memory`. The limits are raised so that a vmlinux's worth
 * of symbols fits, and what still does not fit is refused by `check` at the first symbol past the limit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../cli/run-cli';

const dir = mkdtempSync(join(tmpdir(), 'klpsim-fit-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const clean = (r: { err: string }): void => expect(r.err).not.toMatch(/\n\s+at |internal error|\?:1:1/);

describe('machine limits', () => {
  it('16 000 functions pass check and run', async () => {
    const fns = Array.from({ length: 16_000 }, (_, i) => `    f${i}: ret\n`).join('');
    const p = file(
      'many.yaml',
      `name: many\nkernel:\n  functions:\n${fns}tasks:\n  - name: t\n    run: [ { call: f15999 }, { sleep_ms: 1 } ]\nsteps:\n  - sleep_ms: 5\n`,
    );
    expect((await runCli(['check', p])).code).toBe(0);
    const r = await runCli(['run', p, '--deterministic', '--format', 'dmesg']);
    clean(r);
    expect(r.code).toBe(0);
  }, 60_000);

  it('code past the text memory is refused by check, at the first function that does not fit', async () => {
    const p = file(
      'text.yaml',
      'name: big\nkernel:\n  functions:\n    small: ret\n    big: |\n      .zero 12000000\n      ret\n    big2: |\n      .zero 5000000\n      ret\n',
    );
    const r = await runCli(['check', p]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${p}:8:5: function big2 does not fit in the machine's text memory (16 MiB): the code up to it takes 17000038 bytes\n`,
    );
  }, 30_000);

  it('data past the data memory, and module parameters with it', async () => {
    const p = file(
      'data.yaml',
      'name: big\nkernel:\n  functions:\n    d1: .zero 8388000\nmodules:\n  m:\n    params: { a: 1, b: 2 }\n    functions:\n      d2: .zero 200\n',
    );
    const r = await runCli(['check', p]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${p}:9:7: data symbol d2 does not fit in the machine's data memory (8 MiB): the data up to it takes 8388808 bytes\n`,
    );
  });

  it('one symbol larger than the assembler builds is refused at its line', async () => {
    const p = file('symbol.yaml', 'name: big\nkernel:\n  functions:\n    d: |\n      .zero 16000000\n      .zero 16000000\n');
    const r = await runCli(['check', p]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${p}:6:7: in data symbol d: symbol larger than 16 MiB (the most one symbol may hold)\n`);
  }, 30_000);

  it('names longer than a kallsyms record holds: symbols, livepatch functions, modules', async () => {
    const long = 'f'.repeat(50);
    const p = file(
      'names.yaml',
      `name: n\nkernel:\n  functions:\n    ${'g'.repeat(56)}: ret\n    ${long}: ret\nmodules:\n  ${'m'.repeat(56)}:\n    functions: { x: ret }\n  lp:\n    livepatch:\n      objects:\n        vmlinux:\n          funcs:\n            ${long}: ret\n`,
    );
    const r = await runCli(['check', p]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([
      `${p}:4:5: symbol name '${'g'.repeat(56)}' is longer than 55 bytes (the most kallsyms holds)`,
      `${p}:7:3: module name '${'m'.repeat(56)}' is longer than 55 bytes (MODULE_NAME_LEN)`,
      `${p}:14:13: symbol name 'livepatch_${long}' is longer than 55 bytes (the most kallsyms holds)`,
      '',
    ]);
  });

  it('more patched functions than the ftrace filter holds', async () => {
    const n = 1025;
    const fns = Array.from({ length: n }, (_, i) => `    f${i}: ret\n`).join('');
    const lp = Array.from({ length: n }, (_, i) => `            f${i}: ret\n`).join('');
    const p = file(
      'filter.yaml',
      `name: f\nkernel:\n  functions:\n${fns}modules:\n  lp:\n    livepatch:\n      objects:\n        vmlinux:\n          funcs:\n${lp}`,
    );
    const r = await runCli(['check', p]);
    clean(r);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${p}:${4 + n + 6 + 1024}:13: livepatch function f1024 does not fit: the machine's ftrace filter holds 1024 patched functions\n`,
    );
  }, 30_000);

  it('a module loaded again and again until text runs out fails modprobe with ENOMEM, as the kernel does', async () => {
    const p = file(
      'reload.yaml',
      'name: reload\nmodules:\n  big:\n    functions:\n      f: |\n        .zero 6000000\n        ret\nsteps:\n' +
        '  - expect: { sh: modprobe big, exit: 0 }\n  - sh: rmmod big\n  - expect: { sh: modprobe big, exit: 0 }\n  - sh: rmmod big\n' +
        '  - sh: modprobe big\n  - expect: { dmesg: [ "modprobe: ERROR: could not insert \'big\': Cannot allocate memory" ] }\n',
    );
    expect((await runCli(['check', p])).code).toBe(0);
    const r = await runCli(['run', p, '--deterministic', '--format', 'dmesg']);
    clean(r);
    expect(r.code).toBe(0);
  }, 60_000);
});
