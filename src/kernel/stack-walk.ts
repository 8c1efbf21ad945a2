/**
 * A frame-pointer unwinder over shared memory, usable from any thread: the coordinator walks a sleeping
 * task's stack through kmem exactly as klp_check_stack() walks it with stack_trace_save_tsk_reliable().
 *
 * The walk starts at the task's saved rip; if that is a leaf (a kernel service, which builds no frame) or
 * is still in a prologue, the caller's return address is the word at rsp; after that it follows the rbp
 * chain ([rbp] = caller's rbp, [rbp+8] = return address) until rbp leaves the task's stack. A walk is
 * *unreliable* — and a transition must not trust it, as arch_stack_walk_reliable() refuses — when a frame
 * pointer points outside the stack, frames do not move strictly upwards, or the walk does not end at the
 * task's entry (the `ret_from_call` return address or an empty stack).
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { RET_FROM_CALL, SERVICES_END, isServiceAddr } from './services';

export interface StackWalk {
  /** Return addresses and the current pc, innermost first. */
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
  /** Bytes of prologue at the start of the function containing rip, or -1 if rip is past its prologue. */
  inPrologue: boolean;
}

const MAX_FRAMES = 64;

export function walkStack(km: KernelMemory, r: FrameRegs): StackWalk {
  const frames: number[] = [r.rip];
  const inStack = (a: number, len: number): boolean => a >= r.stackBase && a + len <= r.stackTop;
  if (r.rsp === r.stackTop) return { frames: [], reliable: true };
  if (isServiceAddr(r.rip) || r.inPrologue) {
    if (!inStack(r.rsp, 8)) return { frames, reliable: false, reason: 'rsp outside the stack' };
    const ret = km.readU64(r.rsp);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    frames.push(ret);
  }
  let rbp = r.rbp;
  let last = r.rsp;
  while (frames.length < MAX_FRAMES) {
    if (!inStack(rbp, 16) || rbp < last) {
      return { frames, reliable: false, reason: `bad frame pointer 0x${rbp.toString(16)}` };
    }
    const ret = km.readU64(rbp + 8);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    if (ret < SERVICES_END) return { frames, reliable: false, reason: `bad return address 0x${ret.toString(16)}` };
    frames.push(ret);
    last = rbp + 16;
    rbp = km.readU64(rbp);
  }
  return { frames, reliable: false, reason: 'too many frames' };
}
