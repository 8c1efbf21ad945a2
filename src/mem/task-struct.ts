/**
 * task_struct records in kmem (TASKS region), one TASK_STRUCT_SIZE slot per task.
 *
 * Who writes what, and how it is ordered:
 * - `lock` is a spinlock word (Atomics.compareExchange / Atomics.store): the stand-in for the runqueue lock
 *   that the kernel's task_call_func() takes. A CPU holds it while switching the task in or out; the
 *   coordinator holds it while it walks a sleeping task's stack and switches its patch_state
 *   (klp_try_switch_task). So a task never starts running in the middle of a stack check.
 * - `state`, `cpu`, the saved frame (`saved_rip/rsp/rbp`, `pt_regs`): written by the owning CPU under
 *   `lock`; read by the coordinator under `lock`.
 * - `wake_ns` is a float64 (ns; exact up to the end of time, 2^53 - 1, and NEVER = 2^62 is exact too), a
 *   plain word with no Atomics: every write holds `lock` — the owning CPU's, and the coordinator's when it
 *   moves a wake-up earlier (it then sends the CPU a reschedule IPI, after which the CPU reads the word
 *   again: the IPI's Atomics order the write before that read). The CPU keeps its own copy of each of its
 *   tasks' wake times, so its per-step scans read neither shared memory nor a BigInt.
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
  /** Float64 at words 12-13: simulated time (ns) at which a sleeping task wakes (see `wake_ns` above). */
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
  /**
   * A request of the task to the coordinator (start_task / stop_task, or a charp `${param}`), see
   * src/kernel/task-request.ts: ReqState is stored last by the CPU (REQ_POSTED) and by the coordinator
   * when it takes the request (REQ_TAKEN); ReqAction and ReqClock are written by the CPU before it. The
   * CPU stores REQ_WAIT_EXIT while the task waits in stop_task, and REQ_NONE when it runs again.
   */
  ReqState = 17,
  /** The index in the task's run list of the action that made the request. */
  ReqAction = 18,
  /**
   * Non-zero while the task sleeps in TASK_INTERRUPTIBLE inside a call (msleep_interruptible(),
   * schedule_timeout_interruptible()): the sleep klp_send_signals() can cut short. Written by its CPU
   * under `lock` with the saved frame.
   */
  SleepInterruptible = 19,
  /**
   * Int64 at words 20-21 (64-bit words are even-aligned): the requesting CPU's clock when it
   * posted (the time the request is served at).
   */
  ReqClock = 20,
  /**
   * Int64 at words 22-23: when the task ended. Written by its CPU before the store of Dead, so whoever
   * sees Dead (a task waiting in stop_task on another CPU) reads the time it has to wake at.
   */
  ExitNs = 22,
  /**
   * Int64 at words 24-31: the argument registers (rdi, rsi, rdx, rcx) of a kernel service the task asked
   * the coordinator to perform (src/kernel/service-request.ts); ReqAction is then below zero. Written by
   * its CPU before REQ_POSTED.
   */
  ReqArgs = 24,
}

export const REQ_NONE = 0;
export const REQ_POSTED = 1;
export const REQ_TAKEN = 2;
/**
 * Not a request: the task waits in stop_task for another task to end (stored by its own CPU). A task that
 * waits for a waiting task does not follow that task's CPU (cpu-host.ts horizon()), so two tasks stopping
 * each other hang as they would in the kernel, without holding simulated time back.
 */
export const REQ_WAIT_EXIT = 3;

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
/**
 * A signal is pending: klp_send_signals()'s fake signal to a user task (signal_wake_up() in 5.1,
 * set_notify_signal()'s TIF_NOTIFY_SIGNAL since 5.11; both make signal_pending() true and are handled on
 * the way back to user space). Set by the coordinator, cleared by the task's CPU at its exit to user mode.
 */
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
  constructor(
    km: KernelMemory,
    readonly slot: number,
  ) {
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

  /** Hold `lock` to write (see `wake_ns` in the header); the owning CPU reads its own copy. */
  get wakeNs(): number {
    return this.km.f64[this.base64 + (TaskField.WakeNs >>> 1)];
  }

  set wakeNs(v: number) {
    this.km.f64[this.base64 + (TaskField.WakeNs >>> 1)] = v;
  }

  /**
   * Spin until the task lock is ours. Critical sections are a few hundred ns, so spinning is right. The
   * word is 0 (free), 1 (held) or 2 (held, and someone may sleep on it): a holder that finds 2 when it
   * unlocks wakes one sleeper, so an uncontended unlock makes no Atomics.notify (a futex-style mutex).
   */
  lock(): void {
    const i32 = this.km.i32;
    const i = this.base32 + TaskField.Lock;
    for (let spins = 0; spins < 1000; spins++) if (Atomics.compareExchange(i32, i, 0, 1) === 0) return;
    // Announce a sleeper (2), then sleep while someone holds it; whoever unlocks a 2 wakes us.
    while (Atomics.exchange(i32, i, 2) !== 0) Atomics.wait(i32, i, 2, 1);
  }

  /** Non-blocking lock for the main thread, which must never block. */
  tryLock(): boolean {
    return Atomics.compareExchange(this.km.i32, this.base32 + TaskField.Lock, 0, 1) === 0;
  }

  unlock(): void {
    const i = this.base32 + TaskField.Lock;
    if (Atomics.exchange(this.km.i32, i, 0) === 2) Atomics.notify(this.km.i32, i, 1);
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
