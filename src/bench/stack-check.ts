/**
 * The cost of the stack check per transition retry, for each reliable unwinder: what
 * klp_try_complete_transition() spends walking the stacks of the tasks it has not switched yet. 64
 * kernel threads sleep in msleep() four calls deep (framed callers and a frameless wrapper, as a compiled
 * kernel has both); one retry walks all 64 stacks under their task locks (walkTaskStack, as
 * klp_try_switch_task() does). The ORC tables are filled before timing, as the kernel builds them at load.
 */
import { Machine, TaskHandle } from '../coordinator/machine';
import { TaskField, TaskState } from '../mem/task-struct';
import { ReliableUnwinder, UNWINDERS, Unwinder, walkTaskStack } from '../kernel/stack-walk';

const TASKS = 64;
const KERNEL: Record<string, string> = {
  sleeper: 'push rbp\nmov rbp, rsp\nmov edi, 1000000\ncall msleep\npop rbp\nret',
  // Frameless, and a tail call: legal in both kernels (it calls nothing with its frame modified).
  wrapper: 'jmp sleeper',
  middle: 'push rbp\nmov rbp, rsp\nsub rsp, 16\ncall wrapper\nleave\nret',
  outer: 'push rbp\nmov rbp, rsp\npush rbx\npush r12\ncall middle\npop r12\npop rbx\npop rbp\nret',
};

export interface StackCheckCost {
  unwinder: Unwinder;
  tasks: number;
  /** Real microseconds for one retry's walks of every task. */
  usPerRetry: number;
  frames: number;
  reliable: boolean;
}

export async function measureStackCheck(ms: number): Promise<StackCheckCost[]> {
  const m = await Machine.create({ cpus: 1, deterministic: true, maxTasks: TASKS + 8 });
  try {
    m.loader.load(
      'vmlinux',
      Object.entries(KERNEL).map(([name, source]) => ({ name, source })),
    );
    const tasks: TaskHandle[] = [];
    for (let i = 0; i < TASKS; i++) tasks.push(await m.spawn({ name: `sleeper/${i}`, run: [{ kind: 'call', func: 'outer', args: [] }] }));
    await m.waitFor(
      () => tasks.every((t) => t.view.get(TaskField.State) === TaskState.Sleeping && t.view.get(TaskField.InCall) === 1),
      'every task asleep in msleep',
    );
    const out: StackCheckCost[] = [];
    for (const kind of UNWINDERS) {
      const u = new ReliableUnwinder(m.km, m.kallsyms, kind);
      const first = walkTaskStack(u, tasks[0].view);
      const frames = first && !first.running ? first.frames.length : 0;
      const reliable = Boolean(first && !first.running && first.reliable);
      let retries = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        for (const t of tasks) walkTaskStack(u, t.view);
        retries++;
      }
      out.push({ unwinder: kind, tasks: TASKS, usPerRetry: ((performance.now() - t0) * 1000) / retries, frames, reliable });
    }
    return out;
  } finally {
    await m.dispose();
  }
}
