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
import type { StackWalk, UnwindStart } from './unwind-types';

const MAX_FRAMES = 64;

export function unwindOrc(km: KernelMemory, orc: OrcTables, r: UnwindStart): StackWalk {
  if (r.rip === 0 || r.rsp === r.stackTop) return { frames: [], reliable: true };
  const frames: number[] = [r.rip];
  const inStack = (a: number, len: number): boolean => a >= r.stackBase && a + len <= r.stackTop;
  const text = (a: number): boolean => a >= km.layout.textBase && a < km.layout.textEnd;
  let ip = r.rip;
  let sp = r.rsp;
  let bp = r.rbp;
  let exact = true;
  while (frames.length < MAX_FRAMES) {
    let cfa: number;
    let callerBp = bp;
    if (isServiceAddr(ip)) {
      // A kernel service is served natively: a leaf with no frame (its return address at rsp).
      cfa = sp + 8;
    } else {
      const l = orc.find(exact ? ip : ip - 1);
      if (!l.entry) return { frames, reliable: false, reason: l.reason };
      const e = l.entry;
      cfa = (e.base === CfaBase.Sp ? sp : bp) + e.cfa;
      if (e.bpSaved !== null) {
        if (!inStack(cfa + e.bpSaved, 8))
          return { frames, reliable: false, reason: `saved rbp outside the stack at 0x${(cfa + e.bpSaved).toString(16)}` };
        callerBp = km.readU64(cfa + e.bpSaved);
      }
    }
    if (cfa <= sp || !inStack(cfa - 8, 8)) return { frames, reliable: false, reason: `bad CFA 0x${cfa.toString(16)}` };
    const ret = km.readU64(cfa - 8);
    if (ret === RET_FROM_CALL) return { frames, reliable: true };
    if (!text(ret)) return { frames, reliable: false, reason: `bad return address 0x${ret.toString(16)}` };
    frames.push(ret);
    ip = ret;
    sp = cfa;
    bp = callerBp;
    exact = false;
  }
  return { frames, reliable: false, reason: 'too many frames' };
}
