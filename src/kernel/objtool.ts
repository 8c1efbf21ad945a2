/**
 * What objtool does for CONFIG_UNWINDER_ORC (tools/objtool/check.c, orc_gen.c): follow every path through
 * a function's machine code and record, for each instruction, where the caller's frame is — the CFA (the
 * caller's rsp after our `ret`: the return address sits just below it) as an offset from rsp or rbp, and
 * where the caller's rbp was saved, if it was. The ORC unwinder (unwind-orc.ts) needs nothing else to walk
 * through any function, framed or not.
 *
 * Followed as objtool follows them: push/pop, `sub/add rsp, imm`, `lea rsp, [rsp|rbp + d]`, `mov rbp, rsp`,
 * `mov rsp, rbp`, `leave`, conditional and direct jumps inside the function (both ways), sibling calls
 * (jumps out of it, which need an unmodified frame), `ret` (likewise). Paths that meet must agree. A function
 * it cannot follow — an indirect jump with a modified frame that is not a jump table it can read (a
 * switch's table is followed to its cases: jumpTableTargets()), rsp
 * changed by an unknown amount while the CFA is rsp-based, disagreeing paths, a `ret` or sibling call
 * with a modified frame, falling off its end, an undecodable instruction — gets objtool's warning and no
 * table: a stack through it is unreliable, never clean.
 *
 * The first 5 bytes are the ftrace site. Whatever they hold (the NOP, `call ftrace_caller`, an int3 in
 * the middle of text_poke_bp) the CFA there is the entry's: the call returns before the body runs, and a
 * task never stops inside it. So the tables do not depend on the site's bytes and need no update when
 * ftrace pokes them.
 */
import { decodeAt, FMT_RIPREL, Insn, Op } from '../x86/decoder';
import { FTRACE_SITE_SIZE } from '../x86/ftrace-site';
import { Reg } from '../x86/registers';

/** The register the CFA is an offset from (ORC_REG_SP / ORC_REG_BP). */
export const enum CfaBase {
  Sp = 0,
  Bp = 1,
}

/** One ORC entry: CFA = base + cfa; the caller's rbp is at CFA + bpSaved, or still in rbp (null). */
export interface OrcEntry {
  base: CfaBase;
  cfa: number;
  bpSaved: number | null;
}

export interface OrcFunction {
  addr: number;
  size: number;
  /** Reached instruction addresses, ascending (the site first), each with the entry in force before it. */
  ips: number[];
  /** Where each of those instructions ends. */
  ends: number[];
  entries: OrcEntry[];
  /** objtool's warning (`func+0xoff: reason`) when the function could not be followed: no entries then. */
  warning: string | null;
}

/** objtool's cfi_state, reduced to what x86-64 kernel code here can do. */
interface Cfi {
  base: CfaBase;
  /** CFA - rsp, or null when unknown (allowed only while the CFA is rbp-based). */
  sp: number | null;
  /** CFA - rbp while rbp holds a frame pointer set from rsp, else null. */
  bp: number | null;
  /** Where the caller's rbp is saved, relative to the CFA; null while rbp still holds it. */
  bpSaved: number | null;
}

class Unanalysable extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'Unanalysable';
  }
}

const ENTRY: Cfi = { base: CfaBase.Sp, sp: 8, bp: null, bpSaved: null };

const sameCfi = (a: Cfi, b: Cfi): boolean => a.base === b.base && a.sp === b.sp && a.bp === b.bp && a.bpSaved === b.bpSaved;
const cfaText = (c: Cfi): string => (c.base === CfaBase.Sp ? `rsp+${c.sp}` : `rbp+${c.bp}`);

/** Registers an instruction writes (enough to tell when rsp or rbp change). */
function writes(ins: Insn, reg: number): boolean {
  switch (ins.op) {
    case Op.MovRR64:
    case Op.MovRR32:
    case Op.MovRI:
    case Op.MovRIN:
    case Op.MovX:
    case Op.Load:
    case Op.Lea:
    case Op.UnR:
    case Op.ShR:
    case Op.ImulR:
    case Op.ImulM:
    case Op.CmovR:
    case Op.CmovM:
    case Op.XchgRM:
      return ins.r === reg;
    case Op.SetccR:
      return ins.r === reg; // spl / bpl with a REX prefix (16..19 are ah..bh)
    case Op.AluRR:
    case Op.AluRI:
    case Op.AluRM:
      return ins.r === reg && ins.alu !== 7 && ins.alu !== 8; // cmp and test write only flags
    case Op.XchgRR:
    case Op.XaddR:
      return ins.r === reg || ins.rm === reg;
    case Op.BtR:
      return ins.r === reg && ins.alu !== 0; // bt only reads
    case Op.BitScanR:
    case Op.BitScanM:
    case Op.Bswap:
    case Op.ShdR:
    case Op.XaddM:
      return ins.r === reg;
    case Op.CmpxchgR:
      return ins.r === reg || reg === Reg.RAX;
    case Op.CmpxchgM:
      return reg === Reg.RAX;
    case Op.StrOp:
      return reg === Reg.RDI || reg === Reg.RCX || (ins.alu === 0 && reg === Reg.RSI);
    case Op.PopR:
      return ins.r === reg;
    case Op.Cdqe:
      return reg === Reg.RAX;
    case Op.Cqo:
      return reg === Reg.RDX;
    case Op.MulDivR:
    case Op.MulDivM:
      return reg === Reg.RAX || reg === Reg.RDX;
    default:
      return false;
  }
}

/** The state after `ins` (which does not end the path). */
function step(c: Cfi, ins: Insn): Cfi {
  const at = ins.addr;
  const n: Cfi = { ...c };
  const fail = (reason: string): never => {
    throw new Unanalysable(at, reason);
  };
  const spDelta = (d: number): void => {
    if (n.sp !== null) n.sp += d;
    else if (n.base === CfaBase.Sp) fail('undefined stack state');
  };
  const rspUnknown = (): void => {
    if (n.base === CfaBase.Sp) fail('unsupported stack pointer realignment');
    n.sp = null;
  };
  // rbp no longer holds the frame pointer (or the caller's rbp): a CFA based on it moves to rsp.
  const rbpClobbered = (): void => {
    n.bp = null;
    if (n.base === CfaBase.Bp) {
      if (n.sp === null) fail('undefined stack state');
      n.base = CfaBase.Sp;
    }
  };
  switch (ins.op) {
    case Op.PushR:
    case Op.PushI:
    case Op.PushM:
      spDelta(8);
      if (ins.op === Op.PushR && ins.r === Reg.RBP && n.bpSaved === null && c.bp === null && n.sp !== null) n.bpSaved = -n.sp;
      return n;
    case Op.PopM:
      spDelta(-8);
      return n;
    case Op.PopR: {
      if (ins.r === Reg.RSP) fail('unsupported stack pointer modification');
      const slot = n.sp === null ? null : -n.sp;
      spDelta(-8);
      if (ins.r === Reg.RBP) {
        rbpClobbered();
        if (slot !== null && slot === n.bpSaved) n.bpSaved = null; // the caller's rbp is back in rbp
      }
      return n;
    }
    case Op.Leave:
      if (c.bp === null) fail('leave without a frame pointer');
      n.sp = c.bp;
      n.base = CfaBase.Sp;
      return step(n, popRbp(ins));
    default:
      break;
  }
  if (writes(ins, Reg.RSP)) {
    if (ins.op === Op.AluRI && ins.sz === 8 && (ins.alu === 0 || ins.alu === 5)) {
      // add/sub rsp, imm (ilo is the sign-extended immediate)
      if (n.sp === null) return n;
      n.sp += ins.alu === 0 ? -ins.ilo : ins.ilo;
      return n;
    }
    if (ins.op === Op.Lea && ins.dsz === 8 && ins.index < 0 && ins.base === Reg.RSP) {
      if (n.sp !== null) n.sp -= ins.disp;
      else rspUnknown();
      return n;
    }
    if (ins.op === Op.Lea && ins.dsz === 8 && ins.index < 0 && ins.base === Reg.RBP && c.bp !== null) {
      n.sp = c.bp - ins.disp;
      return n;
    }
    if (ins.op === Op.MovRR64 && ins.rm === Reg.RBP && c.bp !== null) {
      n.sp = c.bp;
      n.base = CfaBase.Sp;
      return n;
    }
    if (ins.op === Op.MovRR64 || ins.op === Op.XchgRR || ins.op === Op.PopR) fail('unsupported stack pointer modification');
    rspUnknown();
  }
  if (writes(ins, Reg.RBP)) {
    if (ins.op === Op.MovRR64 && ins.rm === Reg.RSP) {
      if (c.sp === null) fail('undefined stack state');
      n.bp = c.sp;
      n.base = CfaBase.Bp;
      return n;
    }
    if (ins.op === Op.Lea && ins.dsz === 8 && ins.index < 0 && ins.base === Reg.RSP && c.sp !== null) {
      n.bp = c.sp - ins.disp;
      return n;
    }
    rbpClobbered();
  }
  return n;
}

/** `leave` is `mov rsp, rbp; pop rbp`: the pop half, as an instruction of its own. */
function popRbp(ins: Insn): Insn {
  const p = new Insn(ins.addr);
  p.op = Op.PopR;
  p.r = Reg.RBP;
  return p;
}

/**
 * The case addresses of a jump table, as gcc emits one without -fpic: `jmp [reg*8 + table]`, the table an
 * array of 8-byte absolute addresses (R_X86_64_64 relocations in .rodata, already applied). objtool finds
 * its end from the relocations; here it ends at the first entry that does not point into the function's
 * body (the next object in .rodata, or the end of memory) — gcc's tables only hold the function's own
 * labels. Empty when the jump is anything else.
 */
function jumpTableTargets(mem: Uint8Array, ins: Insn, inside: (addr: number) => boolean): number[] {
  if (ins.base !== -1 || ins.index < 0 || ins.scale !== 8 || (ins.fmt & FMT_RIPREL) !== 0) return [];
  const table = ins.disp;
  const out: number[] = [];
  for (let at = table; at >= 0 && at + 8 <= mem.length && out.length < MAX_JUMP_TABLE; at += 8) {
    let lo = 0;
    for (let b = 3; b >= 0; b--) lo = lo * 256 + mem[at + b];
    let hi = 0;
    for (let b = 7; b >= 4; b--) hi = hi * 256 + mem[at + b];
    const tgt = hi * 2 ** 32 + lo;
    if (hi !== 0 || !inside(tgt)) break;
    out.push(tgt);
  }
  return out;
}

/** More cases than any switch a kernel function holds: a runaway read is not a table. */
const MAX_JUMP_TABLE = 4096;

/** A function's cold part: where gcc put its unlikely paths (the symbol `F.cold`). */
export interface ColdPart {
  addr: number;
  size: number;
}

/** Follows the function at [addr, addr + size) (and its cold part) in `mem` as objtool does; never throws. */
export function analyseFunction(mem: Uint8Array, addr: number, size: number, name: string, cold?: ColdPart): OrcFunction {
  const fn: OrcFunction = { addr, size, ips: [], ends: [], entries: [], warning: null };
  const end = addr + size;
  // gcc's cold part (`F.cold`, in .text.unlikely: the unlikely paths -freorder-blocks-and-partition moves
  // out) is the same function to objtool (its pfunc): jumps between the two are paths of F, not calls.
  const coldEnd = cold ? cold.addr + cold.size : 0;
  const inCold = (a: number): boolean => cold !== undefined && a >= cold.addr && a < coldEnd;
  const limitOf = (a: number): number => (inCold(a) ? coldEnd : end);
  const state = new Map<number, Cfi>();
  const body = addr + FTRACE_SITE_SIZE;
  try {
    if (size < FTRACE_SITE_SIZE) throw new Unanalysable(addr, 'function too short for its ftrace site');
    const work: { at: number; cfi: Cfi }[] = [{ at: body, cfi: ENTRY }];
    while (work.length > 0) {
      let { at, cfi } = work.pop() as { at: number; cfi: Cfi };
      const limit = limitOf(at);
      for (;;) {
        if (at >= limit) throw new Unanalysable(limit - 1, 'falls through to next function');
        const seen = state.get(at);
        if (seen) {
          if (!sameCfi(seen, cfi)) throw new Unanalysable(at, `stack state mismatch: cfa1=${cfaText(seen)} cfa2=${cfaText(cfi)}`);
          break;
        }
        state.set(at, cfi);
        const ins = decodeAt(mem, at);
        if (ins.op === Op.Fault) {
          // ud2 (BUG()) ends the path; anything else undecodable cannot be followed.
          if (ins.fmsg.includes('ud2')) break;
          throw new Unanalysable(at, `can't decode instruction (${ins.fmsg})`);
        }
        if (ins.end > limit) throw new Unanalysable(at, 'instruction crosses the end of the function');
        const unmodified = cfi.sp === 8 && cfi.bpSaved === null;
        if (ins.op === Op.Ret) {
          if (!unmodified || ins.ilo !== 0) throw new Unanalysable(at, 'return with modified stack frame');
          break;
        }
        if (ins.op === Op.Int3) break;
        if (ins.op === Op.JmpM) {
          // A switch's jump table (objtool's add_jump_table()): every case is a path of this function,
          // entered with the frame the jump had.
          const cases = jumpTableTargets(mem, ins, (a) => (a >= body && a < end) || inCold(a));
          if (cases.length > 0) {
            for (const tgt of cases) work.push({ at: tgt, cfi });
            break;
          }
        }
        if (ins.op === Op.JmpR || ins.op === Op.JmpM) {
          // With the frame unmodified it is an indirect sibling call; otherwise it is a jump table this
          // analysis could not read.
          if (!unmodified) throw new Unanalysable(at, 'indirect jump with modified stack frame');
          break;
        }
        if (ins.op === Op.Jmp || ins.op === Op.Jcc) {
          const inside = (ins.tgt >= addr && ins.tgt < end) || inCold(ins.tgt);
          if (inside && ins.tgt < body) throw new Unanalysable(at, "can't find jump dest instruction");
          if (!inside && !unmodified) throw new Unanalysable(at, 'sibling call from callable instruction with modified stack frame');
          if (inside) work.push({ at: ins.tgt, cfi });
          if (ins.op === Op.Jmp) break;
          at = ins.end;
          continue;
        }
        cfi = step(cfi, ins);
        at = ins.end;
      }
    }
  } catch (e) {
    if (!(e instanceof Unanalysable)) throw e;
    fn.warning = `${name}+0x${(e.at - addr).toString(16)}: ${e.reason}`;
    return fn;
  }
  // The site's bytes share the entry's CFA (see the header). A cold part may lie below the function.
  state.set(addr, ENTRY);
  for (const at of [...state.keys()].sort((a, b) => a - b)) {
    const insEnd = at === addr ? body : at + decodeAt(mem, at).len;
    // A jump into the middle of an instruction decodes differently from the straight-line path.
    if (fn.ends.length > 0 && at < fn.ends[fn.ends.length - 1]) {
      fn.warning = `${name}+0x${(at - addr).toString(16)}: can't find jump dest instruction`;
      fn.ips = [];
      fn.ends = [];
      fn.entries = [];
      return fn;
    }
    fn.ips.push(at);
    fn.ends.push(insEnd);
    fn.entries.push(toEntry(state.get(at) as Cfi));
  }
  return fn;
}

function toEntry(c: Cfi): OrcEntry {
  return { base: c.base, cfa: (c.base === CfaBase.Sp ? c.sp : c.bp) as number, bpSaved: c.bpSaved };
}

/**
 * The entry for `ip`: the instruction that contains it must be one objtool reached (unreachable code has
 * no entry). Returns null when there is none.
 */
export function orcEntryAt(fn: OrcFunction, ip: number): OrcEntry | null {
  const ips = fn.ips;
  let lo = 0;
  let hi = ips.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (ips[mid] <= ip) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  // Bytes after a reached instruction that no path reaches (padding, dead code) have no entry.
  return best >= 0 && ip < fn.ends[best] ? fn.entries[best] : null;
}
