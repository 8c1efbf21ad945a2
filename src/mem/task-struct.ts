/**
 * task_struct records in kmem (TASKS region), one TASK_STRUCT_SIZE slot per task.
 *
 * Who writes what, and how it is ordered:
 * - `lock` is a spinlock word (Atomics.compareExchange / Atomics.store): the stand-in for the runqueue lock
 *   that the kernel's task_call_func() takes. A CPU holds it while switching the task in or out; the
 *   coordinator holds it while it walks a sleeping task's stack and switches its patch_state
 *   (klp_try_switch_task). So a task never starts running in the middle of a stack check.
 * - `state`, `cpu`, the saved frame (`saved_rip/rsp/rbp`, `pt_regs`), `wake_ns`: written by the owning CPU under
 *   `lock`; read by the coordinator under `lock`.
 * - `flags` (TIF_*): set and cleared with Atomics.or / Atomics.and by either side, as set_tsk_thread_flag.
 * - `patch_state`: written by the coordinator under `lock` (or while the task cannot run), and by the task
 *   itself on its own CPU in klp_update_patch_state() after it clears TIF_PATCH_PENDING with Atomics.and —
 *   the Atomics RMW orders the flag and the preceding read of klp_target_state, like the kernel's
 *   test_and_clear_tsk_thread_flag() + smp_rmb() pairing.
 */
import { TASK_STRUCT_SIZE } from './layout';
import type { KernelMemory } from './kernel-memory';
import { AtomicWords } from './atomic-words';

/** Word indices (Int32) inside a task struct. */
export const enum TaskField {
  Pid = 0,
  Lock = 1,
  State = 2,
  Cpu = 3,
  Flags = 4,
  PatchState = 5,
  SavedRip = 6,
  SavedRsp = 7,
  SavedRbp = 8,
  StackBase = 9,
  StackTop = 10,
  Slot = 11,
  /** Int64 at words 12-13: simulated time (ns) at which a sleeping task wakes. */
  WakeNs = 12,
  /** How many passes of its run list the task has completed. */
  Passes = 14,
  /** Non-zero while the task is inside a `call:` action (its stack holds kernel frames). */
  InCall = 15,
  /**
   * Non-zero when the saved frame is kernel-mode pt_regs: an interrupt switched the task out (its timeslice
   * ran out, wherever it was), not a voluntary schedule(). The frame-pointer unwinder refuses such a stack.
   */
  PtRegs = 16,
}

export const enum TaskState {
  Unused = 0,
  Runnable = 1,
  Running = 2,
  /** TASK_INTERRUPTIBLE: in msleep() or between run passes. */
  Sleeping = 3,
  Dead = 4,
}

export const TASK_STATE_NAMES = ['unused', 'runnable', 'running', 'sleeping', 'dead'] as const;

/** Thread-info flags (the TIF_ bits that livepatch uses). */
export const TIF_PATCH_PENDING = 1 << 0;
export const TIF_SIGPENDING = 1 << 1;
/** The stop_task request (kthread_should_stop): the task ends after the pass it is in. */
export const TIF_SHOULD_STOP = 1 << 2;
/**
 * klpsim's own bit, not the kernel's: the task was switched by `force` without its stack being checked.
 * Forcing voids the consistency model for exactly those tasks (the kernel's documentation warns of it),
 * so the consistency check ignores the task until its next kernel exit, where its stack is empty.
 */
export const TIF_FORCED_SWITCH = 1 << 3;

/** klp patch_state values. */
export const KLP_UNDEFINED = -1;
export const KLP_UNPATCHED = 0;
export const KLP_PATCHED = 1;

/**
 * The task with `pid` has ended: its slot reads Dead, or already holds a newer task (slots are reused,
 * and a slot is only reused once Dead; see Machine.spawn()).
 */
export function taskEnded(view: TaskView, pid: number): boolean {
  return view.get(TaskField.Pid) !== pid || view.get(TaskField.State) === TaskState.Dead;
}

export const TASK_COMM_OFFSET = 128;
export const TASK_COMM_LEN = 64;

export class TaskView extends AtomicWords {
  constructor(km: KernelMemory, readonly slot: number) {
    super(km, km.layout.tasksBase + slot * TASK_STRUCT_SIZE);
  }

  /** Zeroes the whole task_struct: only for a slot no thread uses (a new task's, before it is published). */
  clear(): void {
    this.km.u8.fill(0, this.base, this.base + TASK_STRUCT_SIZE);
  }

  orFlags(bits: number): number {
    return Atomics.or(this.km.i32, this.base32 + TaskField.Flags, bits);
  }

  /** Clears `bits` and returns the flags as they were, like test_and_clear_tsk_thread_flag. */
  andNotFlags(bits: number): number {
    return Atomics.and(this.km.i32, this.base32 + TaskField.Flags, ~bits);
  }

  get wakeNs(): bigint {
    return this.get64(TaskField.WakeNs);
  }

  set wakeNs(v: bigint) {
    this.set64(TaskField.WakeNs, v);
  }

  /** Spin until the task lock is ours. Critical sections are a few hundred ns, so spinning is right. */
  lock(): void {
    const i = this.base32 + TaskField.Lock;
    let spins = 0;
    while (Atomics.compareExchange(this.km.i32, i, 0, 1) !== 0) {
      if (++spins > 1000) {
        Atomics.wait(this.km.i32, i, 1, 1);
        spins = 0;
      }
    }
  }

  /** Non-blocking lock for the main thread, which must never block. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.km.i32, this.base32 + TaskField.Lock, 0, 1) === 0;
  }

  unlock(): void {
    Atomics.store(this.km.i32, this.base32 + TaskField.Lock, 0);
    Atomics.notify(this.km.i32, this.base32 + TaskField.Lock, 1);
  }

  get comm(): string {
    return this.km.readCString(this.base + TASK_COMM_OFFSET, TASK_COMM_LEN);
  }

  set comm(name: string) {
    const bytes = Buffer.from(name.slice(0, TASK_COMM_LEN - 1), 'utf8');
    this.km.u8.fill(0, this.base + TASK_COMM_OFFSET, this.base + TASK_COMM_OFFSET + TASK_COMM_LEN);
    this.km.u8.set(bytes, this.base + TASK_COMM_OFFSET);
  }
}
