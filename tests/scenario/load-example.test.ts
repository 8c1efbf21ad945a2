/** Valid scenarios load, with every field the runner relies on. */
import { existsSync } from 'fs';
import { resolve } from 'path';
import { loadScenarioFile, Scenario, Step } from '../../src/scenario';
import { loadFixture } from './helpers';

const EXAMPLE = resolve(__dirname, '../../../shared/examples/test-livepatch-basic.yaml');

describe('the shipped example', () => {
  // The example lives beside the repository (../shared); a clone without it has nothing to check here.
  const maybe = existsSync(EXAMPLE) ? it : it.skip;

  maybe('loads test-livepatch-basic.yaml', () => {
    const s = loadScenarioFile(EXAMPLE);
    expect(s.name).toBe('selftest test-livepatch.sh: basic function patching');
    expect(s.cpus).toBe(2);
    expect(s.seed).toBe(1);
    expect(s.functions.map((f) => [f.name, f.kind])).toEqual([
      ['cmdline_proc_show', 'func'],
      ['cmdline', 'data'],
      ['meminfo_proc_show', 'func'],
      ['memfmt', 'data'],
    ]);
    expect(s.proc).toEqual({ cmdline: 'cmdline_proc_show', meminfo: 'meminfo_proc_show' });
    const lp = s.modules[0]?.livepatch;
    expect(lp?.replace).toBe('false');
    expect(lp?.objects.map((o) => [o.name, o.funcs.map((f) => f.name)])).toEqual([
      ['vmlinux', ['cmdline_proc_show', 'fmt', 'modname', 'text']],
    ]);
    expect(s.tasks).toEqual([
      expect.objectContaining({
        name: 'reader',
        count: 4,
        run: [
          expect.objectContaining({ kind: 'call', func: 'cmdline_proc_show', args: [] }),
          expect.anything(),
          { kind: 'sleep_ms', ms: 1, pos: expect.anything() },
        ],
      }),
    ]);
    expect(s.steps.map((st) => st.kind)).toEqual(['sh', 'wait', 'expect', 'sh', 'wait', 'sh', 'expect']);
    expect(s.steps[1]).toEqual({ kind: 'wait', what: 'transition', timeoutMs: 30000, pos: { file: EXAMPLE, line: 52, col: 5 } });
  });
});

describe('a scenario using every construct', () => {
  let s: Scenario;
  beforeAll(() => {
    s = loadFixture('valid-all-features.yaml');
  });

  it('keeps the top level and the kernel', () => {
    expect([s.name, s.cpus, s.seed]).toEqual(['all features', 3, 42]);
    expect(s.file).toBe('valid-all-features.yaml');
    expect(s.functions.map((f) => f.name)).toEqual(['cmdline_proc_show', 'msg']);
  });

  it('stringifies parameters and replace, and keeps ${…} for the runner', () => {
    const demo = s.modules.find((m) => m.name === 'test_klp_callbacks_demo');
    expect(demo?.params).toEqual({ replace: '0', delay: '5', flag: 'Y' });
    expect(demo?.livepatch?.replace).toBe('${replace}');
    expect(demo?.init[0]).toEqual({
      kind: 'printk',
      text: 'test_klp_callbacks_demo: ${module_state} delay=${delay}',
      pos: { file: 'valid-all-features.yaml', line: 25, col: 9 },
    });
    expect(demo?.init[1]).toEqual({
      kind: 'start_task',
      name: 'worker',
      cpu: 2,
      once: true,
      run: [{ kind: 'call', func: 'mod_work', args: [1, -2], pos: expect.anything() }],
      pos: expect.anything(),
    });
    expect(demo?.exit).toEqual([{ kind: 'stop_task', name: 'worker', pos: expect.anything() }]);
  });

  it('reads livepatch objects, sympos and callbacks', () => {
    const lp = s.modules.find((m) => m.name === 'test_klp_callbacks_demo')?.livepatch;
    const [vmlinux, mod] = lp?.objects ?? [];
    expect(vmlinux?.name).toBe('vmlinux');
    expect(vmlinux?.funcs[0]).toMatchObject({ name: 'cmdline_proc_show', sympos: 1, source: 'xor eax, eax\nret', kind: 'func' });
    // The code is one double-quoted line: its second line, `ret`, starts after the two-character \n escape.
    expect(vmlinux?.funcs[0]?.map(1, 1)).toEqual({ file: 'valid-all-features.yaml', line: 34, col: 52 });
    expect(vmlinux?.funcs[0]?.map(2, 1)).toEqual({ file: 'valid-all-features.yaml', line: 34, col: 66 });
    expect(vmlinux?.callbacks.pre_patch?.map((a) => a.kind)).toEqual(['printk', 'return']);
    expect(vmlinux?.callbacks.pre_patch?.[1]).toMatchObject({ kind: 'return', value: '-19' });
    expect(vmlinux?.callbacks.post_unpatch).toEqual([{ kind: 'sleep_ms', ms: 2, pos: expect.anything() }]);
    expect(vmlinux?.callbacks.post_patch).toBeUndefined();
    expect(mod?.name).toBe('test_klp_callbacks_mod');
  });

  it('reads tasks and every kind of step', () => {
    expect(s.tasks[0]).toMatchObject({ name: 'reader', count: 2, cpu: 1 });
    const steps: Step[] = s.steps;
    expect(steps[0]).toMatchObject({
      kind: 'sh',
      quiet: false,
      parsed: { cmd: 'modprobe', module: 'test_klp_callbacks_demo', params: { replace: '1', delay: '7' } },
    });
    expect(steps[1]).toMatchObject({
      kind: 'sh',
      quiet: true,
      parsed: { cmd: 'echo', value: '1', target: '/sys/kernel/livepatch/test_klp_callbacks_demo/force' },
    });
    expect(steps[2]).toMatchObject({ kind: 'wait', timeoutMs: 30000 });
    expect(steps[3]).toMatchObject({ kind: 'wait', timeoutMs: 500 });
    expect(steps[4]).toMatchObject({ kind: 'sleep_ms', ms: 5000 });
    expect(steps[5]).toMatchObject({
      kind: 'expect',
      sh: { command: 'cat /proc/cmdline', parsed: { cmd: 'cat', file: '/proc/cmdline' }, stdout: 'cmdline', exit: 0 },
    });
    expect(steps[6]).toMatchObject({ kind: 'expect', dmesg: ["livepatch: 'test_klp_callbacks_demo': patching complete"] });
    expect(steps[7]).toMatchObject({
      kind: 'expect',
      dmesg: ['a', 'b'],
      patched: { cmdline_proc_show: true, mod_work: false },
      nops: 0,
      ftraceOps: 1,
    });
    expect(steps[8]).toMatchObject({ kind: 'sh', parsed: { cmd: 'kmsg', inner: { cmd: 'echo', value: 'test_klp: hello' } } });
    expect(steps[9]).toMatchObject({ kind: 'sh', parsed: { cmd: 'rmmod', module: 'test_klp_callbacks_demo' } });
  });
});
