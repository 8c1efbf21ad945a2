/**
 * The ORC unwinder (CONFIG_UNWINDER_ORC, the x86-64 default since 4.14: arch/x86/kernel/unwind_orc.c).
 * Each frame's CFA comes from objtool's table for the pc (orc-tables.ts): CFA = rsp or rbp + offset, the
 * return address just below it, the caller's rbp restored from where the entry says it was saved. So it
 * walks frameless functions, prologues and epilogues exactly, and an interrupted task from its pt_regs —
 * the interrupted pc, rsp and rbp (ORC_TYPE_REGS) — back into the function it was in.
 *
 * A return address is looked up at `ret - 1`, inside its call (the state at the call is the state after
 * it returns; a call that ends a function would otherwise find the next function). The interrupted pc of
 * pt_regs, or the pc after schedule(), is exact. The walk is unreliable where the table has no entry: a
 * function objtool could not follow, unreachable code, anything outside kernel text.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { CfaBase } from './objtool';
import type { OrcTables } from './orc-tables';
import { RET_FROM_CALL, isServiceAddr } from './services';
import { FrameBuffer, MAX_FRAMES, StackWalk, UnwindStart } from './unwind-types';

/**
 * unwindOrc()'s buffer, one per thread: a Float64Array of MAX_FRAMES is an off-heap allocation (its own
 * backing store, zeroed, tracked by the GC) that cost more than the walk itself — a transition retry's
 * stack checks of 64 tasks took 190 µs with one per walk, 30 µs before FrameBuffer existed. The walk is
 * synchronous and never re-entered, so one buffer serves every call.
 */
const scratch = new FrameBuffer();

export function unwindOrc(km: KernelMemory, orc: OrcTables, r: UnwindStart): StackWalk {
  const reason = unwindOrcInto(km, orc, r.rip, r.rsp, r.rbp, r.stackBase, r.stackTop, scratch);
  const frames: number[] = [];
  for (let i = 0; i < scratch.length; i++) frames.push(scratch.pcs[i]);
  return reason === null ? { frames, reliable: true } : { frames, reliable: false, reason };
}

/**
 * The walk itself, into `out` (refilled from its start): null when it is reliable, else why not. It
 * allocates nothing on a reliable walk, which is what the consistency check needs at every redirected call.
 */
export function unwindOrcInto(
  km: KernelMemory,
  orc: OrcTables,
  rip: number,
  rsp: number,
  rbp: number,
  stackBase: number,
  stackTop: number,
  out: FrameBuffer,
): string | null {
  const frames = out.pcs;
  out.length = 0;
  if (rip === 0 || rsp === stackTop) return null;
  frames[0] = rip;
  let n = 1;
  // `out.length` is kept up to date at every return: the frames found before an unreliable one are the
  // chain as far as it could be followed.
  out.length = n;
  const textBase = km.layout.textBase;
  const textEnd = km.layout.textEnd;
  let ip = rip;
  let sp = rsp;
  let bp = rbp;
  let exact = true;
  while (n < MAX_FRAMES) {
    let cfa: number;
    let callerBp = bp;
    if (isServiceAddr(ip)) {
      // A kernel service is served natively: a leaf with no frame (its return address at rsp).
      cfa = sp + 8;
    } else {
      const l = orc.find(exact ? ip : ip - 1);
      if (!l.entry) return l.reason;
      const e = l.entry;
      cfa = (e.base === CfaBase.Sp ? sp : bp) + e.cfa;
      if (e.bpSaved !== null) {
        const at = cfa + e.bpSaved;
        if (at < stackBase || at + 8 > stackTop) return `saved rbp outside the stack at 0x${at.toString(16)}`;
        callerBp = km.readU64(at);
      }
    }
    if (cfa <= sp || cfa - 8 < stackBase || cfa > stackTop) return `bad CFA 0x${cfa.toString(16)}`;
    const ret = km.readU64(cfa - 8);
    if (ret === RET_FROM_CALL) return null;
    if (ret < textBase || ret >= textEnd) return `bad return address 0x${ret.toString(16)}`;
    frames[n++] = ret;
    out.length = n;
    ip = ret;
    sp = cfa;
    bp = callerBp;
    exact = false;
  }
  return 'too many frames';
}
