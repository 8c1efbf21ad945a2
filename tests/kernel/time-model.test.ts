/**
 * Issue #13 item 3: the kernel's own work costs simulated time (src/kernel/time-model.ts) — a user
 * task's pass is a system call with its entry and exit, a switch-in is a context switch, msleep() arms a
 * timer, printk() takes its microsecond. Checked through what a user sees: event times and pass counts.
 */
import { withMachine } from '../coordinator/helpers';
import { TaskField } from '../../src/mem/task-struct';
import {
  CONTEXT_SWITCH_NS,
  KTHREAD_LOOP_NS,
  PRINTK_NS,
  SCHEDULE_NS,
  SYSCALL_ENTRY_NS,
  SYSCALL_EXIT_NS,
  TIMER_SETUP_NS,
  TIMER_WAKEUP_NS,
} from '../../src/kernel/time-model';

const KERNEL = { tiny: 'xor eax, eax\nret' };

describe('the time model', () => {
  it('a busy user task makes one system call per entry + exit + its instructions', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m) => {
      const t = await m.spawn({ name: 'busy', cpu: 0, kind: 'user', run: [{ kind: 'call', func: 'tiny', args: [] }] });
      await m.sleep(2);
      const passes = t.view.get(TaskField.Passes);
      // The ftrace site (a 5-byte NOP), xor, ret: 3 instructions of 1 ns.
      const perPass = SYSCALL_ENTRY_NS + SYSCALL_EXIT_NS + 3;
      expect(passes).toBeGreaterThan((2e6 / perPass) * 0.97);
      expect(passes).toBeLessThan((2e6 / perPass) * 1.01);
    });
  });

  it('a kthread sleeping in a loop pays the switch-in, its loop turn and the timer set-up each pass', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m, events) => {
      await m.spawn({ name: 'napper', cpu: 0, kind: 'kthread', run: [{ kind: 'sleep', ms: 1 }] });
      await m.sleep(30);
      const runs = events.filter((e) => e.type === 'task.state' && e.comm === 'napper' && e.state === 'running').map((e) => e.t);
      expect(runs.length).toBeGreaterThan(5);
      // Woken from the tick (timer-wheel.ts): msleep(1) on 6.12 is 2 jiffies, fired at the bucket after
      // them, so 3 ms apart whatever the pass costs; the task runs its wake-up in the tick's softirq and a
      // context switch after the tick.
      const gaps = new Set(runs.slice(2).map((t, i) => t - runs[i + 1]));
      expect([...gaps]).toEqual([3_000_000]);
      expect(new Set(runs.slice(1).map((t) => t % 1_000_000))).toEqual(new Set([TIMER_WAKEUP_NS + CONTEXT_SWITCH_NS]));
      // The switch-out follows schedule() after the timer is armed.
      const sleeps = events.filter((e) => e.type === 'task.state' && e.comm === 'napper' && e.state === 'sleeping').map((e) => e.t);
      expect(sleeps[1] - runs[1]).toBe(KTHREAD_LOOP_NS + TIMER_SETUP_NS + SCHEDULE_NS);
    });
  });

  it('printk takes its time: two log lines of one pass are PRINTK_NS apart', async () => {
    await withMachine({ cpus: 1, deterministic: true }, KERNEL, async (m, events) => {
      await m.spawn({
        name: 'logger',
        cpu: 0,
        kind: 'kthread',
        once: true,
        run: [
          { kind: 'printk', text: 'one', refs: [] },
          { kind: 'printk', text: 'two', refs: [] },
        ],
      });
      await m.sleep(1);
      const at = (text: string): number => events.find((e) => e.type === 'log' && e.text === text)?.t ?? NaN;
      expect(at('two') - at('one')).toBe(PRINTK_NS);
    });
  });
});
