/** The consistency model (kernel/livepatch/transition.c) on the lockstep machine. */
import type { SimEvent } from '../../src/kernel/events';
import { TaskField } from '../../src/mem/task-struct';
import { withKlp, printkFunc } from './helpers';
import { KernelVersion } from '../../src/kernel/kernel-version';

// `sleepy` sleeps inside itself: a task calling it sits on its stack for `ms` at a time.
const sleepy = (ms: number): string => `push rbp\nmov rbp, rsp\nmov edi, ${ms}\ncall msleep\npop rbp\nret`;
const KERNEL = { ...printkFunc('other', 'other original'), sleepy: sleepy(3500) };
const logs = (events: SimEvent[]): string[] => events.flatMap((e) => (e.type === 'log' ? [e.text] : []));

describe('transitions', () => {
  it('a task sleeping in a function being patched blocks the transition until it leaves', async () => {
    await withKlp({ cpus: 2, kernel: KERNEL, klp: { verbose: true } }, async (rig) => {
      const t = await rig.m.spawn({
        name: 'sleeper',
        run: [
          { kind: 'call', func: 'sleepy', args: [] },
          { kind: 'sleep', ms: 10_000 },
        ],
      });
      await rig.m.sleep(1);
      expect(await rig.patch('lp', ['sleepy'], false)).toBe(0);
      await rig.m.sleep(2500);
      expect(rig.klp.inTransition()).toBe(true);
      const blocking = rig.klp.blockingTasks();
      expect(blocking).toHaveLength(1);
      expect(blocking[0]).toMatchObject({ pid: t.pid, comm: 'sleeper' });
      expect(blocking[0].frames[1]).toMatch(/^sleepy\+0x/);
      expect(logs(rig.events)).toContain(`livepatch: klp_try_switch_task: sleeper:${t.pid} is sleeping on function sleepy`);
      // It wakes at 3.5 s and returns; its system call goes on to sleep 10 s with nothing on its stack,
      // where the next retry's stack check switches it (its exit to user space is 10 s away).
      await rig.m.sleep(2000);
      expect(rig.klp.inTransition()).toBe(false);
      expect(rig.events.some((e) => e.type === 'transition.task_switch' && e.pid === t.pid && e.how === 'stack check')).toBe(true);
      expect(logs(rig.events)).toContain("livepatch: 'lp': patching complete");
    });
  });

  it('signals the remaining tasks every 15 retries', async () => {
    await withKlp({ cpus: 1, kernel: { ...KERNEL, sleepy: sleepy(20_000) } }, async (rig) => {
      await rig.m.spawn({ name: 'sleeper', run: [{ kind: 'call', func: 'sleepy', args: [] }] });
      await rig.m.sleep(1);
      await rig.patch('lp', ['sleepy'], false);
      await rig.m.sleep(16_500);
      expect(logs(rig.events).filter((l) => l === 'livepatch: signaling remaining tasks')).toHaveLength(1);
    });
  });

  it('disabling the patch in transition reverses it; the task ends in the unpatched state', async () => {
    await withKlp({ cpus: 2, kernel: KERNEL }, async (rig) => {
      await rig.m.spawn({ name: 'sleeper', run: [{ kind: 'call', func: 'sleepy', args: [] }] });
      await rig.m.sleep(1);
      await rig.patch('lp', ['sleepy'], false);
      await rig.m.sleep(1500);
      expect(rig.klp.read('/sys/kernel/livepatch/lp/transition')).toEqual({ ok: true, text: '1\n' });
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/enabled', '0')).toBe(0);
      const l = logs(rig.events);
      expect(l).toContain("livepatch: 'lp': reversing transition from patching to unpatching");
      expect(l.filter((x) => x === "livepatch: 'lp': starting unpatching transition")).toHaveLength(1);
      await rig.settle();
      expect(logs(rig.events)).toContain("livepatch: 'lp': unpatching complete");
      // A reversed enable frees the patch: its sysfs directory is gone, its module removable.
      expect(rig.klp.patch('lp')).toBeUndefined();
      expect(rig.klp.moduleInUse('lp')).toBe(false);
      expect(rig.klp.stats()).toMatchObject({ ftraceOps: 0 });
    });
  });

  // A forced *patching* transition marks the patch only before 5.18 ("livepatch: Don't block removal of
  // patches that are safe to unload"); tests/scenarios/kernel-version.test.ts covers both rules.
  it('force switches every task at once and, on 5.1, pins the patch module for good', async () => {
    await withKlp({ cpus: 2, kernelVersion: KernelVersion.of('5.1'), kernel: { ...KERNEL, sleepy: sleepy(60_000) } }, async (rig) => {
      const t = await rig.m.spawn({ name: 'sleeper', run: [{ kind: 'call', func: 'sleepy', args: [] }] });
      await rig.m.sleep(1);
      await rig.patch('lp', ['sleepy'], false);
      await rig.m.sleep(2000);
      expect(rig.klp.inTransition()).toBe(true);
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/force', '1')).toBe(0);
      expect(logs(rig.events)).toContain('livepatch: forcing remaining tasks to the patched state');
      expect(t.view.get(TaskField.PatchState)).toBe(1);
      await rig.settle();
      expect(rig.klp.patch('lp')?.forced).toBe(true);
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/enabled', '0')).toBe(0);
      await rig.settle();
      // Disabled and freed — but a forced patch's module can never be removed.
      expect(rig.klp.patch('lp')).toBeUndefined();
      expect(rig.klp.moduleInUse('lp')).toBe(true);
    });
  });

  it('force is refused for a patch that is not in transition; so is re-enabling a disabled patch', async () => {
    await withKlp({ cpus: 1, kernel: KERNEL }, async (rig) => {
      await rig.patch('lp', ['other'], false);
      await rig.settle();
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/force', '1')).toBe(-22);
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/enabled', '1')).toBe(-22);
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/enabled', 'maybe')).toBe(-22);
      expect(await rig.klp.write('/sys/kernel/livepatch/lp/transition', '1')).toBe(-13);
    });
  });
});
