/**
 * What a task does (SPEC section 2, `run:`): a list of actions repeated until the task is stopped, or
 * run once (`once: true`, like a work item). This is the data a CPU needs to run a task; it is sent to the
 * CPU's thread once, when the task is created.
 *
 * `call`, `sleep` and `printk` are performed by the CPU alone. `start_task` and `stop_task` need the
 * coordinator, which owns task creation and task names: the task posts a request (task-request.ts) and
 * blocks until it is served, as a kernel thread blocks in kthread_create() until kthreadd has made the
 * new thread, or in kthread_stop() until the thread has exited.
 */
import type { ParamType } from './module-params';

/**
 * A `${name}` reference to a module parameter, read when the action runs: the parameter is a 64-bit data
 * symbol of its module (an int or a bool), which the CPU reads as module code reads a module_param
 * variable; a charp's text lives with the coordinator, which expands it on request.
 */
export interface ParamRef {
  module: string;
  name: string;
  type: ParamType;
  /** Where the `${` is, for a value that does not fit where it is used. */
  pos?: ActionPos;
}

/** A place in the scenario file (the scenario layer's Pos), carried so run-time errors can name it. */
export interface ActionPos {
  file: string;
  line: number;
  col: number;
}

/** An integer, or a parameter read when the action runs. */
export type TaskValue = number | ParamRef;

export type TaskAction =
  /** `addr`: call that address (a C function pointer: a callback, a work item), `func` naming it for messages. */
  | { kind: 'call'; func: string; args: TaskValue[]; addr?: number; pos?: ActionPos }
  | { kind: 'sleep'; ms: TaskValue; pos?: ActionPos }
  /** One kernel log line; `refs` are the `${name}`s in `text`, by name. */
  | { kind: 'printk'; text: string; refs: ParamRef[]; pos?: ActionPos }
  | { kind: 'start_task'; name: string; run: TaskAction[]; cpu?: number; once: boolean; pos?: ActionPos }
  | { kind: 'stop_task'; name: string; pos?: ActionPos };

/**
 * What a task is (SPEC section 8). A `user` task is a process: each pass of its run list is one system
 * call, and on its way back to user space it passes exit_to_user_mode_loop(), where a pending
 * TIF_PATCH_PENDING makes it call klp_update_patch_state() (kernel/entry/common.c). A `kthread` never
 * leaves the kernel: its run list is the loop of its thread function, and livepatch switches it only by
 * a clean stack check (klp_try_switch_task()), or, on kernels from 6.4, in cond_resched()
 * (klp_sched_try_switch()). Every start_task thread is a kthread, as kthread_run() makes one.
 */
export type TaskKind = 'user' | 'kthread';
export const TASK_KINDS: readonly TaskKind[] = ['user', 'kthread'];

/**
 * What one pass of a user task's run list costs besides its actions, in simulated ns: the pass is one
 * system call, and entering and leaving the kernel is not free: lmbench's `lat_syscall null` measures
 * about 0.1 µs on current x86-64 without mitigations and 0.2–0.5 µs with them (KPTI, retpolines); 200 ns
 * sits in that range. Without it a pass whose actions take no time (`printk` only, a call that fails at
 * once) would loop at one instant for ever.
 */
export const TASK_PASS_NS = 200;

/**
 * A kthread's pass is one turn of its thread function's loop: a kthread_should_stop() test and a branch,
 * no mode switch — a few ns (20 at 1 ns per instruction). Still more than zero, for the same reason.
 */
export const KTHREAD_PASS_NS = 20;

/** The simulated cost of one pass of a task of `kind`'s run list. */
export const passCostNs = (kind: TaskKind): number => (kind === 'user' ? TASK_PASS_NS : KTHREAD_PASS_NS);

export interface TaskSpec {
  slot: number;
  pid: number;
  comm: string;
  cpu: number;
  run: TaskAction[];
  once: boolean;
  /** A user process (each pass a system call) or a kernel thread. */
  kind: TaskKind;
  /** Report what the task's scratch seq_file received after each call (`task.output` events). */
  capture?: boolean;
}
