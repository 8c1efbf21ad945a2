/**
 * The frame-pointer unwinder (CONFIG_UNWINDER_FRAME_POINTER: arch/x86/kernel/unwind_frame.c) as
 * arch_stack_walk_reliable() uses it: the rbp chain, [rbp] = the caller's rbp, [rbp+8] = the return
 * address. It is reliable only under the conditions the kernel sets:
 * - no kernel-mode pt_regs on the stack: a task switched out by an interrupt (preempted at the end of its
 *   timeslice) may be anywhere — in a prologue, an epilogue, a frameless leaf whose return address rbp
 *   does not lead to — so arch_stack_walk_reliable() returns -EINVAL (`IS_ENABLED(CONFIG_FRAME_POINTER)`);
 * - every function that called another had set up its frame (objtool's frame-pointer validation, "call
 *   without frame pointer save/setup", which an FP kernel's build enforces and hand-written asm here may
 *   break): otherwise its caller is invisible to the chain;
 * - frame pointers move up the stack and stay inside it, and return addresses are kernel text.
 * The stack starts with the return address `ret_from_call` and rbp = 0.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import { FTRACE_SITE_SIZE } from '../x86/ftrace-site';
import { CfaBase } from './objtool';
import type { OrcTables } from './orc-tables';
import { RET_FROM_CALL, isServiceAddr } from './services';
import { MAX_FRAMES, StackWalk, UnwindStart } from './unwind-types';

export interface FrameUnwindOptions {
  /** The injected fault trust-unreliable-stack: walk through an interrupt frame as if it were none. */
  trustRegs?: boolean;
}

export function unwindFrame(
  km: KernelMemory,
  kallsyms: Kallsyms,
  orc: OrcTables,
  r: UnwindStart,
  opts: FrameUnwindOptions = {},
): StackWalk {
  const w = walkChain(km, kallsyms, orc, r);
  if (w.reliable && r.regs && !opts.trustRegs)
    return { ...w, reliable: false, reason: 'kernel-mode pt_regs on the stack (the task was interrupted)' };
  return w;
}

function walkChain(km: KernelMemory, kallsyms: Kallsyms, orc: OrcTables, r: UnwindStart): StackWalk {
  if (r.rip === 0 || r.rsp === r.stackTop) return { frames: [], reliable: true };
  const frames: number[] = [r.rip];
  const inStack = (a: number, len: number): boolean => a >= r.stackBase && a + len <= r.stackTop;
  const text = (a: number): boolean => a >= km.layout.textBase && a < km.layout.textEnd;
  const sym = kallsyms.symbolAt(r.rip);
  const funcOffset = sym ? r.rip - sym.addr : -1;
  if (funcOffset === FTRACE_SITE_SIZE + 1) return { frames, reliable: false, reason: 'stopped inside a function prologue' };
  // A call site whose function had no frame pointer set up hides that function's caller from the chain.
  const frameless = (ret: number): string | null => {
    const l = orc.find(ret - 1);
    if (l.entry && l.entry.base === CfaBase.Bp) return null;
    return `call without frame pointer save/setup in ${kallsyms.format(ret)}`;
  };
  if (!r.regs && !isServiceAddr(r.rip) && text(r.rip)) {
    // A voluntary stop after schedule()/cond_resched(): rip is the return address of that call.
    const bad = frameless(r.rip);
    if (bad) return { frames, reliable: false, reason: bad };
  }
  if (isServiceAddr(r.rip) || funcOffset === FTRACE_SITE_SIZE) {
    // A leaf that built no frame (a kernel service, or a function before its `push rbp`): its return
    // address is the word at rsp.
    if (!inStack(r.rsp, 8)) return { frames, reliable: false, reason: 'rsp outside the stack' };
    const ret = km.readU64(r.rsp);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    frames.push(ret);
    const bad = frameless(ret);
    if (bad) return { frames, reliable: false, reason: bad };
  }
  let rbp = r.rbp;
  let last = r.rsp;
  while (frames.length < MAX_FRAMES) {
    if (rbp === 0) return { frames, reliable: true };
    if (!inStack(rbp, 16) || rbp < last) return { frames, reliable: false, reason: `bad frame pointer 0x${rbp.toString(16)}` };
    const ret = km.readU64(rbp + 8);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    if (!text(ret)) return { frames, reliable: false, reason: `bad return address 0x${ret.toString(16)}` };
    frames.push(ret);
    const bad = frameless(ret);
    if (bad) return { frames, reliable: false, reason: bad };
    last = rbp + 16;
    rbp = km.readU64(rbp);
  }
  return { frames, reliable: false, reason: 'too many frames' };
}
