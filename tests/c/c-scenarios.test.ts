/**
 * C in scenarios, end to end: C functions called from tasks and from assembly (and calling back),
 * data, .bss and rodata strings, a livepatch whose new function is C (`cat /proc/cmdline` shows it), a C
 * livepatch of a C module through klp relocations, a notrace function that cannot be patched, the
 * reliable stack check through gcc's code with both unwinders, and a prebuilt `object:`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGcc } from '../../src/c/gcc-driver';
import { kernelCflags } from '../../src/c/kernel-cflags';
import { includeDir } from '../../src/scenario/c-units';
import { runCli } from '../cli/run-cli';
import { runScenario } from '../scenarios/helpers';
import { describeWithGcc } from './gcc-available';

const FIXTURES = join(__dirname, 'fixtures');

describeWithGcc('C in scenarios', () => {
  it('runs C from tasks and assembly, with data, .bss and strings, and patches it with C (exit 0)', async () => {
    const { result, log } = await runScenario(join(FIXTURES, 'c-basic.yaml'));
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(0);
    // asm_entry (assembly) -> c_report (C) -> c_calls_asm (C) -> answer (assembly, 42) + counter (101).
    expect(log).toContain('c_report: 143 hello from C 101');
  }, 60_000);

  it('`klpsim run` of a C scenario exits 0', async () => {
    const r = await runCli(['run', join(FIXTURES, 'c-basic.yaml'), '--format', 'dmesg', '--deterministic']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
  }, 60_000);

  it('links a C livepatch of a C module through klp relocations, written when the module loads', async () => {
    const { result } = await runScenario(join(FIXTURES, 'c-klp-module.yaml'));
    expect(result.failures).toEqual([]);
    expect(result.exitCode).toBe(0);
  }, 60_000);

  it.each(['orc', 'frame-pointer'] as const)(
    'the %s unwinder finds a task sleeping in gcc code; a notrace function cannot be patched',
    async (unwinder) => {
      const { result, log } = await runScenario(join(FIXTURES, 'c-sleeper.yaml'), { unwinder, verbose: true });
      expect(result.failures).toEqual([]);
      expect(result.exitCode).toBe(0);
      expect(log).toContain('livepatch: klp_try_switch_task: sleeper:1 is sleeping on function c_sleeper');
      expect(log.filter((l) => /unreliable|objtool/.test(l))).toEqual([]);
    },
    60_000,
  );

  // gcc puts a dense switch in a jump table (`jmp [rax*8 + table]`, with callee-saved registers pushed)
  // and its default case in c_switcher.cold: objtool follows both as the function's own paths. Before it
  // did, the function had no ORC data and every stack through it was unreliable.
  it.each(['orc', 'frame-pointer'] as const)(
    'the %s unwinder finds a task sleeping in a case of a switch (a jump table and a cold part)',
    async (unwinder) => {
      const { result, log } = await runScenario(join(FIXTURES, 'c-switch-sleeper.yaml'), { unwinder, verbose: true });
      expect(log.filter((l) => /unreliable|objtool/.test(l))).toEqual([]);
      expect(log).toContain('livepatch: klp_try_switch_task: sleeper:1 is sleeping on function c_switcher');
      expect(result.failures).toEqual([]);
      expect(result.exitCode).toBe(0);
    },
    60_000,
  );

  // test_klp_shadow_vars_init() has a cold part named after it, while kallsyms knows the function as
  // module_init()'s alias init_module as well: objtool must follow the cold part under either name.
  it('objtool follows the cold part of a module init function known by its init_module alias', async () => {
    const { result, log } = await runScenario(join(__dirname, '../../scenarios/test-shadow-vars-c.yaml'));
    expect(log.filter((l) => /objtool/.test(l))).toEqual([]);
    expect(result.exitCode).toBe(0);
  }, 60_000);

  it('loads a prebuilt object (`object: path.o`) and reports a bad one as FILE: what, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-obj-'));
    const r = runGcc({
      source: 'int prebuilt_show(struct seq_file *m, void *v) { seq_puts(m, "prebuilt\\n"); return 0; }\n',
      name: 'prebuilt.c',
      flags: [...kernelCflags({ framePointer: false, modname: 'vmlinux', module: false }), '-include', 'linux/seq_file.h'],
      include: [includeDir()],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.diagnostics));
    writeFileSync(join(dir, 'prebuilt.o'), r.object);
    writeFileSync(join(dir, 'bad.o'), readFileSync(__filename));
    const scenario = (obj: string) =>
      [
        'name: prebuilt',
        'kernel:',
        `  object: ${obj}`,
        '  proc: { prebuilt: prebuilt_show }',
        'steps:',
        '  - expect: { sh: cat /proc/prebuilt, stdout: prebuilt }',
      ].join('\n');
    writeFileSync(join(dir, 'good.yaml'), scenario('prebuilt.o'));
    writeFileSync(join(dir, 'bad.yaml'), scenario('bad.o'));
    const good = await runScenario(join(dir, 'good.yaml'));
    expect(good.result.failures).toEqual([]);
    const bad = await runCli(['check', join(dir, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`${join(dir, 'bad.yaml')}:3:11: ${join(dir, 'bad.o')}: not an ELF file (no \\x7fELF magic)\n`);
  }, 60_000);
});
