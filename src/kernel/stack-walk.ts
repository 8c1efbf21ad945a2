/**
 * The reliable stack unwinder a machine is built with (`unwinder: orc | frame-pointer`, as
 * CONFIG_UNWINDER_ORC / CONFIG_UNWINDER_FRAME_POINTER; default orc, as x86-64 defconfig), and the walk of a
 * switched-out task that klp_check_stack() makes with stack_trace_save_tsk_reliable().
 *
 * Where a walk starts: the frame the task's CPU saved when it switched the task out (cpu-host.ts). A
 * voluntary switch (msleep, schedule, cond_resched) leaves a frame the unwinder reads from the stack; a
 * switch by an interrupt — the timeslice ran out anywhere, or `hlt` — leaves kernel-mode pt_regs
 * (TaskField.PtRegs), which the frame-pointer unwinder refuses and ORC walks through.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import { TaskField, TaskState, TaskView } from '../mem/task-struct';
import { OrcTables } from './orc-tables';
import { unwindFrame } from './unwind-frame';
import { unwindOrc } from './unwind-orc';
import type { StackWalk, UnwindStart } from './unwind-types';

export type Unwinder = 'orc' | 'frame-pointer';
export const UNWINDERS: readonly Unwinder[] = ['orc', 'frame-pointer'];
export const DEFAULT_UNWINDER: Unwinder = 'orc';

export type { StackWalk, UnwindStart } from './unwind-types';

export interface WalkOptions {
  /** The injected fault trust-unreliable-stack (frame-pointer only): ignore an interrupt frame. */
  trustRegs?: boolean;
}

export class ReliableUnwinder {
  readonly orc: OrcTables;

  constructor(
    private readonly km: KernelMemory,
    private readonly kallsyms: Kallsyms,
    readonly kind: Unwinder = DEFAULT_UNWINDER,
  ) {
    this.orc = new OrcTables(km, kallsyms);
  }

  walk(r: UnwindStart, opts: WalkOptions = {}): StackWalk {
    return this.kind === 'orc' ? unwindOrc(this.km, this.orc, r) : unwindFrame(this.km, this.kallsyms, this.orc, r, opts);
  }
}

export type TaskWalk = { running: true } | ({ running: false } & StackWalk);

/**
 * Walks a task that is not running, holding its task lock so it cannot be switched in meanwhile (what
 * task_call_func() gives klp_check_and_switch_task()). `then` runs under the same lock — e.g. to switch
 * the task's patch_state when the stack is clean. Never blocks: returns null if the lock is busy.
 */
export function walkTaskStack(
  unwinder: ReliableUnwinder,
  task: TaskView,
  then?: (w: StackWalk) => void,
  opts: WalkOptions = {},
): TaskWalk | null {
  if (!task.tryLock()) return null;
  try {
    if (task.get(TaskField.State) === TaskState.Running) return { running: true };
    const walk = unwinder.walk(savedFrame(task), opts);
    then?.(walk);
    return { running: false, ...walk };
  } finally {
    task.unlock();
  }
}

/** The frame a task's CPU saved at its last switch-out (read under the task lock). */
export function savedFrame(task: TaskView): UnwindStart {
  return {
    rip: task.get(TaskField.SavedRip),
    rsp: task.get(TaskField.SavedRsp),
    rbp: task.get(TaskField.SavedRbp),
    stackBase: task.get(TaskField.StackBase),
    stackTop: task.get(TaskField.StackTop),
    regs: task.get(TaskField.PtRegs) !== 0,
  };
}
