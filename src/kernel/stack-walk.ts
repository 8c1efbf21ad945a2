/**
 * A frame-pointer unwinder over shared memory, usable from any thread: the coordinator walks a sleeping
 * task's stack through kmem as klp_check_stack() does with stack_trace_save_tsk_reliable().
 *
 * A task's stack starts with the return address `ret_from_call` and rbp = 0. The walk starts at the saved
 * rip; if that is a kernel service (a leaf that builds no frame) or the first instruction after the ftrace
 * site (before `push rbp`), the caller's return address is the word at rsp. Then it follows the rbp chain
 * ([rbp] = caller's rbp, [rbp+8] = return address) until it reaches `ret_from_call` or rbp = 0 (the
 * outermost function never set up a frame).
 *
 * As with CONFIG_FRAME_POINTER in the kernel (objtool checks it), every function that calls another must
 * set up a frame (`push rbp; mov rbp, rsp`): a frameless function in the middle of a call chain hides its
 * caller from the walk. A walk is *unreliable* — and a transition must not trust it, as
 * arch_stack_walk_reliable() refuses — when the task stopped between `push rbp` and `mov rbp, rsp`, when a
 * frame pointer leaves the stack or does not move upwards, or when a return address is not kernel text.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import { TaskField, TaskState, TaskView } from '../mem/task-struct';
import { FTRACE_SITE_SIZE } from '../x86/ftrace-site';
import { RET_FROM_CALL, SERVICES_END, isServiceAddr } from './services';

export interface StackWalk {
  /** The current pc and the return addresses, innermost first. */
  frames: number[];
  reliable: boolean;
  reason?: string;
}

export interface FrameRegs {
  rip: number;
  rsp: number;
  rbp: number;
  stackBase: number;
  stackTop: number;
  /** Offset of rip from the start of its function, or -1 if unknown. */
  funcOffset: number;
}

const MAX_FRAMES = 64;

export function walkStack(km: KernelMemory, r: FrameRegs): StackWalk {
  if (r.rip === 0 || r.rsp === r.stackTop) return { frames: [], reliable: true };
  const frames: number[] = [r.rip];
  const inStack = (a: number, len: number): boolean => a >= r.stackBase && a + len <= r.stackTop;
  if (r.funcOffset === FTRACE_SITE_SIZE + 1) return { frames, reliable: false, reason: 'stopped inside a function prologue' };
  if (isServiceAddr(r.rip) || r.funcOffset === FTRACE_SITE_SIZE) {
    if (!inStack(r.rsp, 8)) return { frames, reliable: false, reason: 'rsp outside the stack' };
    const ret = km.readU64(r.rsp);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    frames.push(ret);
  }
  let rbp = r.rbp;
  let last = r.rsp;
  while (frames.length < MAX_FRAMES) {
    if (rbp === 0) return { frames, reliable: true };
    if (!inStack(rbp, 16) || rbp < last) return { frames, reliable: false, reason: `bad frame pointer 0x${rbp.toString(16)}` };
    const ret = km.readU64(rbp + 8);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    if (ret < SERVICES_END) return { frames, reliable: false, reason: `bad return address 0x${ret.toString(16)}` };
    frames.push(ret);
    last = rbp + 16;
    rbp = km.readU64(rbp);
  }
  return { frames, reliable: false, reason: 'too many frames' };
}

export type TaskWalk = { running: true } | ({ running: false } & StackWalk);

/**
 * Walks a task that is not running, holding its task lock so it cannot be switched in meanwhile (what
 * task_call_func() gives klp_check_and_switch_task()). `then` runs under the same lock — e.g. to switch
 * the task's patch_state when the stack is clean. Never blocks: returns null if the lock is busy.
 */
export function walkTaskStack(km: KernelMemory, kallsyms: Kallsyms, task: TaskView, then?: (w: StackWalk) => void): TaskWalk | null {
  if (!task.tryLock()) return null;
  try {
    if (task.get(TaskField.State) === TaskState.Running) return { running: true };
    const rip = task.get(TaskField.SavedRip);
    const sym = rip ? kallsyms.symbolAt(rip) : undefined;
    const walk = walkStack(km, {
      rip,
      rsp: task.get(TaskField.SavedRsp),
      rbp: task.get(TaskField.SavedRbp),
      stackBase: task.get(TaskField.StackBase),
      stackTop: task.get(TaskField.StackTop),
      funcOffset: sym ? rip - sym.addr : -1,
    });
    then?.(walk);
    return { running: false, ...walk };
  } finally {
    task.unlock();
  }
}
