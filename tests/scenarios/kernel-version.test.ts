/**
 * The behaviours that follow `kernel_version:` / `--kernel-version` (src/kernel/kernel-version.ts), each
 * run on 5.1 and on 6.12, and the fixes that came with naming the version: kstrtobool() reads the first
 * character (`echo 0x0 > enabled` disables, in every release), and enabled_store() reversing a transition
 * leaves the next try to the pending delayed work.
 */
import { resolve } from 'path';
import { Simulation } from '../../src/scenario/simulation';
import type { SimEvent } from '../../src/kernel/events';
import { KernelVersion, KERNEL_VERSION_CHANGES, SUPPORTED_KERNEL_VERSIONS } from '../../src/kernel/kernel-version';
import { runScenario } from './helpers';

const fixture = (f: string): string => resolve(__dirname, 'fixtures/kernel-version', f);
const V51 = KernelVersion.of('5.1');
const V612 = KernelVersion.of('6.12');

async function runEvents(file: string, kernelVersion: KernelVersion, verbose = false): Promise<SimEvent[]> {
  const sim = await Simulation.fromFile(file, { deterministic: true, kernelVersion, verbose });
  const events: SimEvent[] = [];
  sim.events$.subscribe((e) => events.push(e));
  await sim.run();
  return events;
}

/** The kernel log lines after the `% COMMAND` line of `cmd`, up to the next command. */
function afterCommand(log: string[], cmd: string): string[] {
  const i = log.indexOf(`% ${cmd}`);
  expect(i).toBeGreaterThanOrEqual(0);
  const rest = log.slice(i + 1);
  const next = rest.findIndex((l) => l.startsWith('% '));
  return next < 0 ? rest : rest.slice(0, next);
}

describe('KernelVersion', () => {
  it('accepts 5.1 … 5.19 and 6.0 … 6.13, nothing else', () => {
    expect(SUPPORTED_KERNEL_VERSIONS[0]).toBe('5.1');
    expect(SUPPORTED_KERNEL_VERSIONS[SUPPORTED_KERNEL_VERSIONS.length - 1]).toBe('6.13');
    expect(SUPPORTED_KERNEL_VERSIONS).toContain('5.19');
    expect(SUPPORTED_KERNEL_VERSIONS).toContain('6.0');
    for (const bad of ['5.0', '5.20', '6.14', '6', '6.12.1', ' 6.12', '4.19']) expect(KernelVersion.parse(bad)).toBeNull();
    expect(KernelVersion.DEFAULT.toString()).toBe('6.12');
  });

  it('has one table row, citing its change, for every behaviour that follows the version', () => {
    for (const row of KERNEL_VERSION_CHANGES) {
      expect(row.since).toMatch(/^(\d+\.\d+|every release)$/);
      expect(row.change.length).toBeGreaterThan(5);
    }
    expect(KERNEL_VERSION_CHANGES.map((r) => r.since)).toEqual(
      expect.arrayContaining(['5.5', '5.18', '5.19', '5.16', '6.4', '6.0', '6.11', '6.13', '6.19']),
    );
  });

  it('kstrtobool() decides by the first character (and o/O by the second), t/f only from 5.19', () => {
    for (const v of [V51, V612]) {
      for (const s of ['1', 'y', 'Y', '1abc', 'yes', 'on', 'ON\n', 'y\n']) expect(v.kstrtobool(s)).toBe(true);
      for (const s of ['0', '0x0', 'n', 'No', 'off', 'oF', '0\n']) expect(v.kstrtobool(s)).toBe(false);
      for (const s of ['', ' 1', '2', 'o', 'ox', 'enable', 'disable', '\n']) expect(v.kstrtobool(s)).toBeNull();
    }
    expect(V51.kstrtobool('true')).toBeNull();
    expect(V51.kstrtobool('False')).toBeNull();
    expect(V612.kstrtobool('true')).toBe(true);
    expect(V612.kstrtobool('False')).toBe(false);
  });
});

describe('sysfs attributes and kstrtobool, per release (fixtures/kernel-version/sysfs-writes.yaml)', () => {
  it('5.1: no replace, no OBJ/patched; `echo false` is -EINVAL, `echo 0x0` disables', async () => {
    const { log } = await runScenario(fixture('sysfs-writes.yaml'), { kernelVersion: V51 });
    expect(afterCommand(log, 'ls /sys/kernel/livepatch/lp > /dev/kmsg')).toEqual(['enabled', 'force', 'transition', 'vmlinux']);
    expect(afterCommand(log, 'ls /sys/kernel/livepatch/lp/vmlinux > /dev/kmsg')).toEqual(['cmdline_proc_show,1']);
    expect(afterCommand(log, 'cat /sys/kernel/livepatch/lp/vmlinux/patched')).toEqual([
      'cat: /sys/kernel/livepatch/lp/vmlinux/patched: No such file or directory',
    ]);
    expect(afterCommand(log, 'echo false > /sys/kernel/livepatch/lp/enabled')).toEqual(['-bash: echo: write error: Invalid argument']);
    expect(afterCommand(log, 'echo 0x0 > /sys/kernel/livepatch/lp/enabled')).toContain("livepatch: 'lp': unpatching complete");
  });

  it('6.12: replace and OBJ/patched exist; `echo false` disables', async () => {
    const { log } = await runScenario(fixture('sysfs-writes.yaml'), { kernelVersion: V612 });
    expect(afterCommand(log, 'ls /sys/kernel/livepatch/lp > /dev/kmsg')).toEqual(['enabled', 'force', 'replace', 'transition', 'vmlinux']);
    expect(afterCommand(log, 'ls /sys/kernel/livepatch/lp/vmlinux > /dev/kmsg')).toEqual(['cmdline_proc_show,1', 'patched']);
    expect(afterCommand(log, 'cat /sys/kernel/livepatch/lp/vmlinux/patched')).toEqual([]);
    expect(afterCommand(log, 'echo false > /sys/kernel/livepatch/lp/enabled')).toContain("livepatch: 'lp': unpatching complete");
  });
});

describe('what force marks, per release (fixtures/kernel-version/force.yaml)', () => {
  it("5.1: every patch is forced, so the older patch's module stays in use after it is disabled", async () => {
    const { log } = await runScenario(fixture('force.yaml'), { kernelVersion: V51 });
    expect(afterCommand(log, 'rmmod lp_a')).toEqual(['rmmod: ERROR: Module lp_a is in use']);
  });

  it("6.12: a patching transition that replaces nothing marks nothing: the older patch's module can go", async () => {
    const { log } = await runScenario(fixture('force.yaml'), { kernelVersion: V612 });
    expect(afterCommand(log, 'rmmod lp_a')).toEqual([]);
    expect(afterCommand(log, 'lsmod > /dev/kmsg').map((l) => l.split(/\s+/)[0])).toEqual(['Module', 'lp_b']);
  });

  it('6.12: the patch of a forced unpatching transition is still forced (scenarios/test-force.yaml)', async () => {
    const { result } = await runScenario('test-force.yaml', { kernelVersion: V612 });
    expect(result.failures.map((f) => f.message)).toEqual([]);
  });
});

describe('when replaced patches are taken apart, per release (fixtures/kernel-version/replaced-free.yaml)', () => {
  /** Positions in the stream: lp_b's NOP func freed, lp_c's post_patch callback, "patching complete". */
  async function order(v: KernelVersion): Promise<{ nopFree: number; postPatch: number; complete: number; patchFree: number }> {
    const ev = await runEvents(fixture('replaced-free.yaml'), v);
    const at = (pred: (e: SimEvent) => boolean): number => ev.findIndex(pred);
    const text = (e: SimEvent): string => (e.type === 'log' ? String(e.text) : '');
    return {
      nopFree: at((e) => e.type === 'klp.free' && e.what === 'func' && e.patch === 'lp_b' && e.nop === true),
      postPatch: at((e) => text(e) === 'lp_c: post_patch_callback'),
      complete: at((e) => text(e) === "livepatch: 'lp_c': patching complete"),
      patchFree: at((e) => e.type === 'klp.free' && e.what === 'patch' && e.patch === 'lp_b'),
    };
  }

  it("5.1: klp_discard_replaced_patches() frees lp_b's objects before the post_patch callback; its free work runs after", async () => {
    const o = await order(V51);
    expect(o.nopFree).toBeGreaterThan(0);
    expect(o.nopFree).toBeLessThan(o.postPatch);
    expect(o.patchFree).toBeGreaterThan(o.complete);
  });

  it('6.12: lp_b stays whole through the post_patch callback and is taken apart after "patching complete"', async () => {
    const o = await order(V612);
    expect(o.postPatch).toBeLessThan(o.complete);
    expect(o.nopFree).toBeGreaterThan(o.complete);
    expect(o.patchFree).toBeGreaterThan(o.nopFree);
  });
});

describe('enabled_store() reversing a transition (scenarios/test-reverse.yaml)', () => {
  it('only turns the transition around: the next try is the pending delayed work, not an immediate one', async () => {
    for (const v of [V51, V612]) {
      const ev = await runEvents(resolve(__dirname, '../../scenarios/test-reverse.yaml'), v, true);
      const reverse = ev.find((e) => e.type === 'transition.reverse');
      expect(reverse).toBeDefined();
      const t = Number((reverse as SimEvent).t);
      // No klp_try_switch_task() at the moment of the write: its debug lines and stack-check switches.
      const tries = ev.filter(
        (e) =>
          Number(e.t) === t &&
          ((e.type === 'log' && String(e.text).includes('klp_try_switch_task')) || e.type === 'transition.task_switch'),
      );
      expect(tries).toEqual([]);
    }
  });
});

describe('the oops header names the release', () => {
  it.each([
    ['5.1', '5.1.0'],
    ['6.12', '6.12.0'],
  ])('%s prints %s', async (v, release) => {
    const { log } = await runScenario(resolve(__dirname, 'fixtures/oops.yaml'), { kernelVersion: KernelVersion.of(v) });
    const header = log.find((l) => /^CPU: \d+ PID: \d+ Comm: a /.test(l));
    expect(header).toMatch(new RegExp(` ${release.replace(/\./g, '\\.')} #1$`));
  });
});
