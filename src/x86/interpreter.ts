/**
 * The x86-64 interpreter: one X86Cpu per simulated CPU, executing machine code straight out of the shared
 * memory (a SharedArrayBuffer seen as a Uint8Array).
 *
 * Design (why it is fast enough):
 *  - Decoded-instruction cache: every address is decoded once (decoder.ts) into an `Insn` record. Records are
 *    found through a two-level page table (`pages[addr >>> 12][addr & 4095]`) and, better, LINKED: each record
 *    remembers its fall-through successor (`next`) and its direct-branch target (`tnext`), so straight-line code,
 *    loops, jcc and direct calls never touch the table; only `ret` and indirect jumps do.
 *  - The loop is a `switch` on `ins.op`, a small dense integer (a jump table), over records of one hidden
 *    class (monomorphic loads).
 *  - Registers are an Int32Array of (lo, hi) halves; most handlers have a 64/32-bit path that never builds a
 *    number wider than 2^53 and never uses BigInt (only mul/div and 64-bit imul overflow do).
 *  - Lazy flags (flags.ts): ALU ops record operands and result; jcc evaluates the condition from them.
 *  - Memory: plain typed-array reads (never Atomics): aligned 4/8-byte accesses go through an Int32Array
 *    view; the hot stack operations (push/pop/call/ret) and base+disp loads/stores have inline fast paths.
 *  - No allocation in the loop; faults unwind with a preallocated sentinel thrown to a single try/catch
 *    (rare, and V8 optimizes functions containing try/catch normally).
 *
 * Tried and NOT kept (measured on src/bench/interpreter.ts's call-heavy workload, compiled build, no gain beyond the
 * noise of a 2-core VM, ratio to the toy ceiling stayed ~0.25-0.28): keeping the lazy-flags state in locals of
 * run() (spilled around helpers and on exit) instead of stores into F; a 64-entry return-address stack so a
 * helper called from two sites returns without a page-table lookup; fusing push r + mov r64,r64 and runs of pops
 * into one dispatch. The switch does compile to a jump table (checked with --print-opt-code), so the remaining
 * cost is spread over dispatch, map checks on each record and the memory fast-path checks; the next real step
 * is probably compiling hot straight-line blocks rather than shaving the per-instruction switch.
 *
 * Block compiler (block-compiler.ts, the step suggested above, taken): a record that starts `jitHot` (50)
 * dispatches gets its straight-line run of handled instructions (up to and including jmp/jcc/call/ret) compiled
 * into a JS function with registers in locals and flags kept in consts until the block exits. It runs only when
 * the budget covers the whole block; an access that misses the inline fast path hands instruction k back to the
 * switch below (so faults stay precise). Compiled build: ~0.8-1.0 of the toy ceiling (was 0.2-0.38).
 *
 * Coherence: the cache is deliberately NOT coherent with writes to memory. Code only changes through the
 * text_poke protocol, which calls flushICache() (the sync-core IPI). int3 bytes are never cached.
 */

import { CpuFault, EntryKind, Exit, FaultVector, PF_PROT, PF_WRITE, X86Host } from './cpu-types';
import { Reg } from './registers';
import { Block, Insn, decode } from './decoder';
import { asDoubleFields } from '../util/double-fields';
import { BlockEnv, compilable, compileBlock } from './block-compiler';
import {
  CF,
  FLAGS_SLOTS,
  OF,
  STATUS_FLAGS,
  ZF,
  alu,
  cond,
  imul,
  joinBig,
  setCarryOverflow,
  shift,
  splitBig,
  statusFlags,
  sx,
  unary,
} from './flags';

/*
 * Same-file mirrors of decoder.ts's `Op` and flags.ts's `FS`/`FK`. A const enum is only guaranteed to be
 * inlined within its own file (tsx/esbuild and ts-jest transpile file by file); an imported enum would turn
 * every `case Op.X:` into a property load and the switch into a chain of compares. The test
 * tests/x86/interp/enum-mirror.test.ts checks these stay identical to the originals.
 */
const enum Op {
  Nop = 0,
  Native = 1,
  Site = 2,
  Int3 = 3,
  Hlt = 4,
  Fault = 5,
  MovRR64 = 6,
  MovRR32 = 7,
  MovRI = 8,
  MovX = 9,
  Load = 10,
  Store = 11,
  StoreI = 12,
  MovRIN = 13,
  Lea = 14,
  AluRR = 15,
  AluRI = 16,
  AluRM = 17,
  AluMR = 18,
  AluMI = 19,
  PushR = 20,
  PopR = 21,
  PushI = 22,
  PushM = 23,
  PopM = 24,
  Jmp = 25,
  Jcc = 26,
  Call = 27,
  CallR = 28,
  CallM = 29,
  JmpR = 30,
  JmpM = 31,
  Ret = 32,
  Leave = 33,
  UnR = 34,
  UnM = 35,
  ShR = 36,
  ShM = 37,
  ImulR = 38,
  ImulM = 39,
  Cdqe = 40,
  Cqo = 41,
  XchgRR = 42,
  XchgRM = 43,
  SetccR = 44,
  SetccM = 45,
  CmovR = 46,
  CmovM = 47,
  MulDivR = 48,
  MulDivM = 49,
  BtR = 50,
  BtM = 51,
  CmpxchgR = 52,
  CmpxchgM = 53,
  XaddR = 54,
  XaddM = 55,
  BitScanR = 56,
  BitScanM = 57,
  Bswap = 58,
  ShdR = 59,
  ShdM = 60,
  StrOp = 61,
  SetDf = 62,
}
const enum FS {
  Kind = 0,
  ALo = 1,
  AHi = 2,
  BLo = 3,
  BHi = 4,
  RLo = 5,
  RHi = 6,
  Aux = 7,
}
const enum FK {
  Raw = 0,
  Add = 1,
  Sub = 2,
  Adc = 3,
  Sbb = 4,
  CO = 5,
  Inc = 6,
  Dec = 7,
}
/** P.R / P.W / P.Shift from cpu-types.ts, inlined for the same reason. */
const enum P {
  R = 1,
  W = 2,
  Shift = 12,
}

export interface CpuContext {
  /** 32 int32: (lo, hi) per Reg */
  regs: Int32Array;
  rip: number;
  rflags: number;
}

/** Thrown (one preallocated instance) by memory helpers inside run(); details are in the cpu's pending* fields. */
const MEM_FAULT = { memFault: true };

const TWO32 = 4294967296;
/** rflags.DF: string instructions walk down */
const DF = 0x400;

function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

/** 64-bit unsigned rendering of an address computed as a (possibly negative or huge) number. */
function addrBig(a: number): bigint {
  return BigInt.asUintN(64, BigInt(Math.trunc(a)));
}

/** Read the low `sz` bytes of register code r, sign-extended to int32 (byte codes 16..19 = ah..bh). */
function rdS(R: Int32Array, r: number, sz: number): number {
  if (sz >= 4) return R[r << 1];
  if (sz === 2) return (R[r << 1] << 16) >> 16;
  if (r < 16) return (R[r << 1] << 24) >> 24;
  return (R[(r - 16) << 1] << 16) >> 24;
}

/** Write a value of size sz to register code r with the x86-64 rules (32-bit zero-extends, 8/16 merge). */
function wrReg(R: Int32Array, r: number, sz: number, lo: number, hi: number): void {
  if (sz === 8) {
    R[r << 1] = lo;
    R[(r << 1) + 1] = hi;
  } else if (sz === 4) {
    R[r << 1] = lo;
    R[(r << 1) + 1] = 0;
  } else if (sz === 2) {
    R[r << 1] = (R[r << 1] & ~0xffff) | (lo & 0xffff);
  } else if (r < 16) {
    R[r << 1] = (R[r << 1] & ~0xff) | (lo & 0xff);
  } else {
    const i = (r - 16) << 1;
    R[i] = (R[i] & ~0xff00) | ((lo & 0xff) << 8);
  }
}

export class X86Cpu {
  rip = 0;
  readonly regs: Int32Array = new Int32Array(32);
  retired = 0;
  fault: CpuFault | null = null;

  /** lazy flags state, see flags.ts */
  private readonly F: Int32Array = new Int32Array(FLAGS_SLOTS);
  /** rflags bits other than the status flags (as last set by setRflags; DF by cld/std) */
  private otherFlags = 0;
  /** 16- and 64-bit views of memory for the locked instructions' Atomics (made on first use) */
  private m16: Uint16Array | null = null;
  private m64: BigInt64Array | null = null;
  /** the flags record as a locked instruction found it, for its retries */
  private readonly Fsave: Int32Array = new Int32Array(FLAGS_SLOTS);

  private readonly mem: Uint8Array;
  private readonly m32: Int32Array;
  private readonly perms: Uint8Array;
  private readonly host: X86Host;
  private readonly memLen: number;
  /** decoded-instruction cache: one 4096-entry array per code page, null until something is decoded there */
  private pages: (Array<Insn | null> | null)[];

  /** high half returned by rd() for 8-byte reads */
  private qhi = 0;
  /** details of a pending memory fault (set before throwing MEM_FAULT) */
  private pendVec: FaultVector = '#PF';
  private pendAddr = 0;
  private pendMsg = '';
  /** the x86 page-fault error code of a pending #PF (PF_PROT | PF_WRITE: see CpuFault.errorCode) */
  private pendErr = 0;
  /** a canonical 64-bit address ea() could not represent exactly, for memFault (ea() returned NaN) */
  private pendBig = 0n;

  /**
   * Block compiler (block-compiler.ts): a record that starts `jitHot` dispatches of the switch loop gets a
   * compiled block; 0 disables compilation (tests compare both paths).
   */
  jitHot = 50;
  /** longest block compiled */
  private static readonly MAX_BLOCK = 64;
  private readonly blockEnv: BlockEnv;
  /** ret target handed back by a block (lo, hi); S[2]: iterations a looping block ran */
  private readonly S: Int32Array = new Int32Array(3);

  constructor(mem: Uint8Array, perms: Uint8Array, host: X86Host) {
    if (mem.byteOffset % 4 !== 0) throw new Error('X86Cpu: memory must start 4-byte aligned');
    this.mem = mem;
    this.m32 = new Int32Array(mem.buffer, mem.byteOffset, mem.length >>> 2);
    this.perms = perms;
    this.host = host;
    // It counts past 2^30 within a simulated second (util/double-fields.ts).
    asDoubleFields(this, 'retired');
    this.memLen = mem.length;
    this.pages = new Array<Array<Insn | null> | null>((mem.length + 4095) >>> P.Shift).fill(null);
    this.F[FS.Kind] = FK.Raw;
    this.blockEnv = { R: this.regs, F: this.F, m32: this.m32, m8: mem, perms, S: this.S, memLen: this.memLen };
  }

  // ------------------------------------------------------------------ cache

  flushICache(): void {
    // compiled blocks hang off the records: they go with them
    this.pages.fill(null);
  }

  /** The record for address a: from the cache, or decoded (and cached when allowed). */
  private lookup(a: number): Insn {
    if (a >= 0 && a < this.memLen) {
      const pg = this.pages[a >>> P.Shift];
      if (pg !== null) {
        const x = pg[a & 4095];
        if (x !== null) return x;
      }
    }
    return this.fill(a);
  }

  private fill(a: number): Insn {
    const valid = a >= 0 && a < this.memLen && Number.isInteger(a);
    let ins: Insn;
    const kind = valid ? this.host.entryKind(a) : EntryKind.Normal;
    if (kind === EntryKind.Native || kind === EntryKind.Site) {
      ins = new Insn(a);
      ins.op = kind === EntryKind.Native ? Op.Native : Op.Site;
      ins.mnem = kind === EntryKind.Native ? '(native)' : '(site)';
    } else {
      ins = decode(this.mem, this.perms, a);
    }
    if (ins.cached && valid) {
      let pg = this.pages[a >>> P.Shift];
      if (pg === null) pg = this.pages[a >>> P.Shift] = new Array<Insn | null>(4096).fill(null);
      pg[a & 4095] = ins;
    }
    return ins;
  }

  /** Compile the block starting at `head` (or mark it as not compilable). */
  private compile(head: Insn): void {
    const list: Insn[] = [];
    let x = head;
    while (list.length < X86Cpu.MAX_BLOCK) {
      const c = compilable(x);
      if (c === 0) break;
      list.push(x);
      if (c === 2) break;
      const nx = x.next !== null ? x.next : this.linkNext(x);
      if (!nx.cached) break;
      x = nx;
    }
    if (list.length === 0) return; // hot stays at jitHot: never tried again
    head.blk = compileBlock(list, this.blockEnv);
  }

  private linkNext(ins: Insn): Insn {
    const x = this.lookup(ins.end);
    if (x.cached) ins.next = x;
    return x;
  }

  private linkTarget(ins: Insn): Insn {
    const x = this.lookup(ins.tgt);
    if (x.cached) ins.tnext = x;
    return x;
  }

  /** Record for an indirect branch target (lo, hi). */
  private target(lo: number, hi: number): Insn {
    if (hi === 0) return this.lookup(lo >>> 0);
    return this.fill(hi * TWO32 + (lo >>> 0));
  }

  /** Target of an indirect call/jmp at `from`, through a one-entry cache in from.tnext. */
  private indirect(from: Insn, lo: number, hi: number): Insn {
    const c = from.tnext;
    if (c !== null && hi === 0 && c.addr === lo >>> 0) return c;
    const x = this.target(lo, hi);
    if (x.cached) from.tnext = x;
    return x;
  }

  // ------------------------------------------------------------------ memory

  private memFault(a: number, n: number, bit: number): never {
    const what = bit === P.W ? 'write to' : 'read from';
    // The error code the CPU pushes: W for a write (an RMW instruction checks for write first), P when the
    // page is mapped and the access broke its permissions rather than finding nothing there.
    const write = bit === P.W ? PF_WRITE : 0;
    if (!(a >= 0 && a + n <= this.memLen)) {
      const v = Number.isNaN(a) ? this.pendBig : addrBig(a);
      const top = v >> 47n;
      const canonical = top === 0n || top === 0x1ffffn;
      this.pendVec = canonical ? '#PF' : '#GP';
      this.pendAddr = Number(v);
      this.pendErr = write;
      this.pendMsg = canonical ? `${what} invalid address ${hex(v)}` : `${what} non-canonical address ${hex(v)}`;
      throw MEM_FAULT;
    }
    const p = this.perms;
    let bad = a;
    if ((p[a >>> P.Shift] & bit) !== 0) bad = (a + n - 1) & ~0xfff;
    const perm = p[bad >>> P.Shift];
    const page = bad & ~0xfff;
    this.pendVec = '#PF';
    this.pendAddr = a;
    this.pendErr = write | (perm !== 0 ? PF_PROT : 0);
    if (bad < 4096) this.pendMsg = `NULL pointer dereference: ${what} ${hex(a)}`;
    else if (bit === P.W && (perm & P.R) !== 0) this.pendMsg = `write to read-only page ${hex(page)} (address ${hex(a)})`;
    else if (perm === 0) this.pendMsg = `${what} unmapped page ${hex(page)} (address ${hex(a)})`;
    else this.pendMsg = `${what} page ${hex(page)} without permission (address ${hex(a)})`;
    throw MEM_FAULT;
  }

  /** Check that [a, a+n) is inside memory and every page touched has permission `bit`; else throw MEM_FAULT. */
  private chk(a: number, n: number, bit: number): void {
    if (!(a >= 0 && a + n <= this.memLen)) this.memFault(a, n, bit);
    const p = this.perms;
    if ((p[a >>> P.Shift] & bit) === 0) this.memFault(a, n, bit);
    if ((a & 4095) + n > 4096 && (p[(a + n - 1) >>> P.Shift] & bit) === 0) this.memFault(a, n, bit);
  }

  /** Load sz bytes at a (raw bits: 1/2-byte values zero-extended). For sz 8 the high half is left in qhi. */
  private rd(a: number, sz: number): number {
    this.chk(a, sz, P.R);
    const m = this.mem;
    if (sz === 1) return m[a];
    if (sz === 2) return m[a] | (m[a + 1] << 8);
    if ((a & 3) === 0) {
      const i = a >>> 2;
      if (sz === 8) this.qhi = this.m32[i + 1];
      return this.m32[i];
    }
    if (sz === 8) this.qhi = m[a + 4] | (m[a + 5] << 8) | (m[a + 6] << 16) | (m[a + 7] << 24);
    return m[a] | (m[a + 1] << 8) | (m[a + 2] << 16) | (m[a + 3] << 24);
  }

  private wr(a: number, sz: number, lo: number, hi: number): void {
    this.chk(a, sz, P.W);
    const m = this.mem;
    if (sz === 1) {
      m[a] = lo;
      return;
    }
    if (sz === 2) {
      m[a] = lo;
      m[a + 1] = lo >> 8;
      return;
    }
    if ((a & 3) === 0) {
      const i = a >>> 2;
      this.m32[i] = lo;
      if (sz === 8) this.m32[i + 1] = hi;
      return;
    }
    m[a] = lo;
    m[a + 1] = lo >> 8;
    m[a + 2] = lo >> 16;
    m[a + 3] = lo >> 24;
    if (sz === 8) {
      m[a + 4] = hi;
      m[a + 5] = hi >> 8;
      m[a + 6] = hi >> 16;
      m[a + 7] = hi >> 24;
    }
  }

  /**
   * Effective address of the record's memory operand. Exact 64-bit arithmetic: the common case (all high
   * halves zero) is a plain double sum; otherwise the high halves are added with the carry out of the low sum.
   * Returns a number that the access then bounds-checks (a negative or >= memLen value faults there).
   */
  private ea(ins: Insn): number {
    const R = this.regs;
    let s = ins.disp,
      h = 0;
    const b = ins.base,
      x = ins.index;
    if (b >= 0) {
      s += R[b << 1] >>> 0;
      h = R[(b << 1) + 1];
    }
    if (x >= 0) {
      s += (R[x << 1] >>> 0) * ins.scale;
      h = (h + Math.imul(R[(x << 1) + 1], ins.scale)) | 0;
    }
    if (h === 0) return s;
    const hi = (h + Math.floor(s / TWO32)) | 0;
    if (hi === 0) return s >>> 0;
    // a genuinely 64-bit address: report it exactly
    const v = joinBig(s | 0, hi);
    const top = v >> 47n;
    if (top === 0n || top === 0x1ffffn) {
      // canonical: a #PF, whose error code depends on the access, so the access itself faults on NaN
      this.pendBig = v;
      return NaN;
    }
    this.pendVec = '#GP';
    this.pendAddr = Number(v);
    this.pendMsg = `access to non-canonical address ${hex(v)}`;
    throw MEM_FAULT;
  }

  /** Push a 64-bit value (lo, hi) inside run(): throws MEM_FAULT without side effects. */
  private pushQ(lo: number, hi: number): void {
    const R = this.regs;
    if (R[9] !== 0) {
      this.ea64Fault(R[8], R[9], -8);
    }
    const a = (R[8] >>> 0) - 8;
    this.wr(a, 8, lo, hi);
    R[8] = a;
  }

  /** Pop inside run(): returns lo, high half in qhi. */
  private popQ(): number {
    const R = this.regs;
    if (R[9] !== 0) {
      this.ea64Fault(R[8], R[9], 0);
    }
    const a = R[8] >>> 0;
    const lo = this.rd(a, 8);
    R[8] = a + 8;
    return lo;
  }

  private ea64Fault(lo: number, hi: number, d: number): never {
    const v = BigInt.asUintN(64, joinBig(lo, hi) + BigInt(d));
    const top = v >> 47n;
    const canonical = top === 0n || top === 0x1ffffn;
    this.pendVec = canonical ? '#PF' : '#GP';
    this.pendAddr = Number(v);
    this.pendErr = d < 0 ? PF_WRITE : 0; // a push writes, a pop reads
    this.pendMsg = `stack access to ${canonical ? 'invalid' : 'non-canonical'} address ${hex(v)}`;
    throw MEM_FAULT;
  }

  // ------------------------------------------------------------------ faults

  private bytesAt(a: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < 16; i++) {
      const q = a + i;
      if (!(q >= 0 && q < this.memLen)) break;
      out.push(this.mem[q]);
    }
    return out;
  }

  private raise(vector: FaultVector, rip: number, message: string, addr?: number, errorCode?: number): void {
    const f: CpuFault = { vector, rip, bytes: this.bytesAt(rip), message };
    if (addr !== undefined) f.addr = addr;
    if (vector === '#PF' && errorCode !== undefined) f.errorCode = errorCode;
    this.fault = f;
  }

  // ------------------------------------------------------------------ the hot loop

  /**
   * Execute up to `budget` instructions. Returns why it stopped (see Exit); `rip` is then the next
   * instruction to execute (for Native/Site/Int3/Fault: the instruction that was NOT executed; for Halt: past
   * the hlt). `retired` grows by the number of instructions completed (hlt counts; faults, int3 and
   * Native/Site stops do not).
   */
  run(budget: number): Exit {
    const R = this.regs;
    const F = this.F;
    const m32 = this.m32;
    const perms = this.perms;
    const memLen = this.memLen;
    let ins = this.lookup(this.rip);
    let n = 0;
    let exit: Exit = Exit.Budget;
    const hotMax = this.jitHot;
    try {
      loop: while (n < budget) {
        const b: Block | null = ins.blk;
        if (b !== null) {
          if (n + b.len <= budget) {
            const c = b.fn(budget - n);
            // a looping block ran S[2] whole iterations before the one it left from
            if (b.loop) n += b.len * this.S[2];
            if (c >= 0) {
              n += b.len;
              const l = b.last;
              if (c === 0) ins = l.next !== null ? l.next : this.linkNext(l);
              else if (c === 1) ins = l.tnext !== null ? l.tnext : this.linkTarget(l);
              else {
                const lo = this.S[0],
                  hi = this.S[1];
                const t = l.tnext;
                if (t !== null && t.addr === lo >>> 0 && hi === 0) ins = t;
                else {
                  const y = hi === 0 ? this.lookup(lo >>> 0) : this.target(lo, hi);
                  if (y.cached) l.tnext = y;
                  ins = y;
                }
              }
              continue loop;
            }
            // instruction k of the block needs the general path: execute it below
            const k = -1 - c;
            n += k;
            ins = b.insns[k];
          }
        } else if (ins.hot < hotMax && ++ins.hot === hotMax && ins.cached) {
          this.compile(ins);
          if (ins.blk !== null) continue loop;
        }
        switch (ins.op) {
          case Op.Nop:
            break;

          // ---- moves
          case Op.MovRR64: {
            const d = ins.r << 1,
              s = ins.rm << 1;
            R[d] = R[s];
            R[d + 1] = R[s + 1];
            break;
          }
          case Op.MovRR32: {
            const d = ins.r << 1;
            R[d] = R[ins.rm << 1];
            R[d + 1] = 0;
            break;
          }
          case Op.MovRI: {
            const d = ins.r << 1;
            R[d] = ins.ilo;
            R[d + 1] = ins.ihi;
            break;
          }
          case Op.MovRIN:
            wrReg(R, ins.r, ins.sz, ins.ilo, 0);
            break;
          case Op.MovX: {
            // mov r8/r16, movzx, movsx, movsxd between registers
            const sz = ins.sz;
            let lo: number, hi: number;
            if (ins.ext !== 0) {
              lo = rdS(R, ins.rm, sz);
              hi = lo >> 31;
            } else {
              lo = rdS(R, ins.rm, sz);
              if (sz === 1) lo &= 0xff;
              else if (sz === 2) lo &= 0xffff;
              hi = 0;
            }
            wrReg(R, ins.r, ins.dsz, lo, hi);
            break;
          }
          case Op.Load: {
            // [base + disp] with a 32-bit base is computed inline; anything else via ea()
            const bs = ins.base;
            const a = ins.index < 0 && bs >= 0 && R[(bs << 1) + 1] === 0 ? ins.disp + (R[bs << 1] >>> 0) : this.ea(ins);
            const sz = ins.sz,
              d = ins.r;
            if (sz === 8 && (a & 7) === 0 && a >= 0 && a + 8 <= memLen && (perms[a >>> 12] & P.R) !== 0) {
              // fast path: aligned 8-byte load into a 64-bit register
              const i = a >>> 2;
              R[d << 1] = m32[i];
              R[(d << 1) + 1] = m32[i + 1];
              break;
            }
            if (sz === 4 && (a & 3) === 0 && a >= 0 && a + 4 <= memLen && (perms[a >>> 12] & P.R) !== 0) {
              // aligned 4-byte load: mov r32 (zero-extends) or movsxd r64
              const v = m32[a >>> 2];
              R[d << 1] = v;
              R[(d << 1) + 1] = ins.ext !== 0 && ins.dsz === 8 ? v >> 31 : 0;
              break;
            }
            let lo = this.rd(a, sz),
              hi: number;
            if (sz === 8) hi = this.qhi;
            else if (ins.ext !== 0) {
              lo = sx(lo, sz);
              hi = lo >> 31;
            } else hi = 0;
            wrReg(R, d, ins.dsz, lo, hi);
            break;
          }
          case Op.Store: {
            const bs = ins.base;
            const a = ins.index < 0 && bs >= 0 && R[(bs << 1) + 1] === 0 ? ins.disp + (R[bs << 1] >>> 0) : this.ea(ins);
            const sz = ins.sz,
              s = ins.r;
            if (sz === 8 && (a & 7) === 0 && a >= 0 && a + 8 <= memLen && (perms[a >>> 12] & P.W) !== 0) {
              const i = a >>> 2;
              m32[i] = R[s << 1];
              m32[i + 1] = R[(s << 1) + 1];
              break;
            }
            if (sz === 4 && (a & 3) === 0 && a >= 0 && a + 4 <= memLen && (perms[a >>> 12] & P.W) !== 0) {
              m32[a >>> 2] = R[s << 1];
              break;
            }
            const lo = sz === 1 && s >= 16 ? R[(s - 16) << 1] >> 8 : R[s << 1];
            this.wr(a, sz, lo, sz === 8 ? R[(s << 1) + 1] : 0);
            break;
          }
          case Op.StoreI:
            this.wr(this.ea(ins), ins.sz, ins.ilo, ins.ihi);
            break;
          case Op.Lea: {
            // exact 64-bit base + index*scale + disp (also used for plain arithmetic)
            let s = ins.disp,
              h = 0;
            const b = ins.base,
              x = ins.index;
            if (b >= 0) {
              s += R[b << 1] >>> 0;
              h = R[(b << 1) + 1];
            }
            if (x >= 0) {
              s += (R[x << 1] >>> 0) * ins.scale;
              h = (h + Math.imul(R[(x << 1) + 1], ins.scale)) | 0;
            }
            const lo = s | 0;
            const hi = s >= 0 && s < TWO32 ? h : (h + Math.floor(s / TWO32)) | 0;
            const d = ins.r << 1;
            if (ins.dsz === 8) {
              R[d] = lo;
              R[d + 1] = hi;
            } else if (ins.dsz === 4) {
              R[d] = lo;
              R[d + 1] = 0;
            } else wrReg(R, ins.r, 2, lo, 0);
            break;
          }

          // ---- ALU
          case Op.AluRR:
          case Op.AluRI: {
            // add/or/and/sub/xor/cmp/test on registers, inlined for 32- and 64-bit operands (the bulk of
            // compiled code); byte/word operands and adc/sbb go through alu().
            const sz = ins.sz,
              op = ins.alu,
              d = ins.r << 1;
            if ((sz === 4 || sz === 8) && op !== 2 && op !== 3) {
              const isImm = ins.op === Op.AluRI;
              let alo: number, ahi: number, blo: number, bhi: number, rlo: number, rhi: number, k: number;
              if (sz === 4) {
                // 32-bit: plain int32 arithmetic; the lazy-flags record wants sign-extended 64-bit values
                alo = R[d];
                blo = isImm ? ins.ilo : R[ins.rm << 1];
                switch (op) {
                  case 0:
                    rlo = (alo + blo) | 0;
                    k = FK.Add;
                    break;
                  case 1:
                    rlo = alo | blo;
                    k = FK.CO;
                    break;
                  case 4:
                  case 8:
                    rlo = alo & blo;
                    k = FK.CO;
                    break;
                  case 6:
                    rlo = alo ^ blo;
                    k = FK.CO;
                    break;
                  default:
                    rlo = (alo - blo) | 0;
                    k = FK.Sub;
                    break; // sub, cmp
                }
                ahi = alo >> 31;
                bhi = blo >> 31;
                rhi = rlo >> 31;
                if (op < 7) {
                  R[d] = rlo;
                  R[d + 1] = 0;
                }
              } else {
                alo = R[d];
                ahi = R[d + 1];
                if (isImm) {
                  blo = ins.ilo;
                  bhi = ins.ihi;
                } else {
                  blo = R[ins.rm << 1];
                  bhi = R[(ins.rm << 1) + 1];
                }
                switch (op) {
                  case 0: {
                    const t = (alo >>> 0) + (blo >>> 0);
                    rlo = t | 0;
                    rhi = (ahi + bhi + (t > 4294967295 ? 1 : 0)) | 0;
                    k = FK.Add;
                    break;
                  }
                  case 1:
                    rlo = alo | blo;
                    rhi = ahi | bhi;
                    k = FK.CO;
                    break;
                  case 4:
                  case 8:
                    rlo = alo & blo;
                    rhi = ahi & bhi;
                    k = FK.CO;
                    break;
                  case 6:
                    rlo = alo ^ blo;
                    rhi = ahi ^ bhi;
                    k = FK.CO;
                    break;
                  default: {
                    const t = (alo >>> 0) - (blo >>> 0);
                    rlo = t | 0;
                    rhi = (ahi - bhi - (t < 0 ? 1 : 0)) | 0;
                    k = FK.Sub;
                    break;
                  }
                }
                if (op < 7) {
                  R[d] = rlo;
                  R[d + 1] = rhi;
                }
              }
              // lazy flags: logic ops only need the result (CF = OF = Aux = 0); add/sub need the operands
              F[FS.Kind] = k;
              F[FS.RLo] = rlo;
              F[FS.RHi] = rhi;
              if (k === FK.CO) F[FS.Aux] = 0;
              else {
                F[FS.ALo] = alo;
                F[FS.AHi] = ahi;
                F[FS.BLo] = blo;
                F[FS.BHi] = bhi;
              }
              // Fusion: a cmp/test/sub/... directly followed by a jcc (the linked successor) executes the jcc
              // here, deciding the branch from the values in hand, which saves one dispatch per pair.
              const j = ins.next;
              if (j !== null && j.op === Op.Jcc && n + 1 < budget) {
                const cc = j.alu;
                let t: boolean;
                if (k === FK.Sub && cc >= 2 && cc !== 8 && cc !== 9 && cc !== 10 && cc !== 11) {
                  const eq = alo === blo && ahi === bhi;
                  const lt =
                    cc >= 12
                      ? ahi === bhi
                        ? alo >>> 0 < blo >>> 0
                        : ahi < bhi
                      : ahi === bhi
                        ? alo >>> 0 < blo >>> 0
                        : ahi >>> 0 < bhi >>> 0;
                  switch (cc) {
                    case 4:
                      t = eq;
                      break;
                    case 5:
                      t = !eq;
                      break;
                    case 2:
                    case 12:
                      t = lt;
                      break;
                    case 3:
                    case 13:
                      t = !lt;
                      break;
                    case 6:
                    case 14:
                      t = lt || eq;
                      break;
                    default:
                      t = !(lt || eq);
                      break; // 7, 15
                  }
                } else if (k === FK.CO && (cc === 4 || cc === 5)) {
                  t = ((rlo | rhi) === 0) === (cc === 4);
                } else {
                  t = cond(F, cc);
                }
                n += 2;
                if (t) ins = j.tnext !== null ? j.tnext : this.linkTarget(j);
                else ins = j.next !== null ? j.next : this.linkNext(j);
                continue loop;
              }
              break;
            }
            const isImm = ins.op === Op.AluRI;
            const a = rdS(R, ins.r, sz),
              ah = sz === 8 ? R[d + 1] : a >> 31;
            let b: number, bh: number;
            if (isImm) {
              b = ins.ilo;
              bh = b >> 31;
            } else {
              b = rdS(R, ins.rm, sz);
              bh = sz === 8 ? R[(ins.rm << 1) + 1] : b >> 31;
            }
            alu(F, op, a, ah, b, bh, sz);
            if (op < 7) wrReg(R, ins.r, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.AluRM: {
            const sz = ins.sz,
              d = ins.r;
            let b = this.rd(this.ea(ins), sz),
              bh: number;
            if (sz === 8) bh = this.qhi;
            else {
              b = sx(b, sz);
              bh = b >> 31;
            }
            if (sz === 8) alu(F, ins.alu, R[d << 1], R[(d << 1) + 1], b, bh, 8);
            else {
              const a = rdS(R, d, sz);
              alu(F, ins.alu, a, a >> 31, b, bh, sz);
            }
            if (ins.alu < 7) wrReg(R, d, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.AluMR:
          case Op.AluMI: {
            if (ins.lock !== 0) {
              this.lockedRmw(ins);
              break;
            }
            const sz = ins.sz,
              op = ins.alu;
            const a = this.ea(ins);
            if (op < 7) this.chk(a, sz, P.W); // RMW: no flag update if the write would fault
            let v = this.rd(a, sz),
              vh: number;
            if (sz === 8) vh = this.qhi;
            else {
              v = sx(v, sz);
              vh = v >> 31;
            }
            let b: number, bh: number;
            if (ins.op === Op.AluMI) {
              b = ins.ilo;
              bh = b >> 31;
            } else if (sz === 8) {
              b = R[ins.r << 1];
              bh = R[(ins.r << 1) + 1];
            } else {
              b = rdS(R, ins.r, sz);
              bh = b >> 31;
            }
            alu(F, op, v, vh, b, bh, sz);
            if (op < 7) this.wr(a, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.UnR: {
            const sz = ins.sz,
              d = ins.r;
            const lo = rdS(R, d, sz),
              hi = sz === 8 ? R[(d << 1) + 1] : lo >> 31;
            if (ins.alu === 2) {
              wrReg(R, d, sz, ~lo, ~hi);
              break;
            }
            unary(F, ins.alu, lo, hi, sz);
            wrReg(R, d, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.UnM: {
            if (ins.lock !== 0) {
              this.lockedRmw(ins);
              break;
            }
            const sz = ins.sz,
              a = this.ea(ins);
            this.chk(a, sz, P.W);
            let lo = this.rd(a, sz),
              hi: number;
            if (sz === 8) hi = this.qhi;
            else {
              lo = sx(lo, sz);
              hi = lo >> 31;
            }
            if (ins.alu === 2) {
              this.wr(a, sz, ~lo, ~hi);
              break;
            }
            unary(F, ins.alu, lo, hi, sz);
            this.wr(a, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.ShR:
          case Op.ShM: {
            const sz = ins.sz;
            let c = ins.ext !== 0 ? R[2] : ins.ilo;
            c &= sz === 8 ? 63 : 31;
            let a = 0,
              lo: number,
              hi: number;
            if (ins.op === Op.ShR) {
              lo = rdS(R, ins.r, sz);
              hi = sz === 8 ? R[(ins.r << 1) + 1] : lo >> 31;
            } else {
              a = this.ea(ins);
              this.chk(a, sz, P.W);
              lo = this.rd(a, sz);
              if (sz === 8) hi = this.qhi;
              else {
                lo = sx(lo, sz);
                hi = lo >> 31;
              }
            }
            let rlo = lo,
              rhi = hi;
            if (c !== 0) {
              shift(F, ins.alu, lo, hi, c, sz);
              rlo = F[FS.RLo];
              rhi = F[FS.RHi];
            }
            if (ins.op === Op.ShR) wrReg(R, ins.r, sz, rlo, rhi);
            else this.wr(a, sz, rlo, rhi);
            break;
          }
          case Op.ImulR:
          case Op.ImulM: {
            const sz = ins.sz;
            let b: number, bh: number;
            if (ins.op === Op.ImulR) {
              b = rdS(R, ins.rm, sz);
              bh = sz === 8 ? R[(ins.rm << 1) + 1] : b >> 31;
            } else {
              b = this.rd(this.ea(ins), sz);
              if (sz === 8) bh = this.qhi;
              else {
                b = sx(b, sz);
                bh = b >> 31;
              }
            }
            let a: number, ah: number;
            if (ins.ext !== 0) {
              a = ins.ilo;
              ah = a >> 31;
            } else {
              a = rdS(R, ins.r, sz);
              ah = sz === 8 ? R[(ins.r << 1) + 1] : a >> 31;
            }
            imul(F, a, ah, b, bh, sz);
            wrReg(R, ins.r, sz, F[FS.RLo], F[FS.RHi]);
            break;
          }
          case Op.MulDivR:
          case Op.MulDivM: {
            const sz = ins.sz;
            let v: number, vh: number;
            if (ins.op === Op.MulDivR) {
              v = rdS(R, ins.r, sz);
              vh = sz === 8 ? R[(ins.r << 1) + 1] : v >> 31;
            } else {
              v = this.rd(this.ea(ins), sz);
              if (sz === 8) vh = this.qhi;
              else {
                v = sx(v, sz);
                vh = v >> 31;
              }
            }
            this.mulDiv(ins.alu, sz, v, vh);
            break;
          }
          case Op.Cdqe: {
            const sz = ins.sz;
            if (sz === 8) R[1] = R[0] >> 31;
            else if (sz === 4) {
              R[0] = (R[0] << 16) >> 16;
              R[1] = 0;
            } else R[0] = (R[0] & ~0xffff) | (((R[0] << 24) >> 24) & 0xffff);
            break;
          }
          case Op.Cqo: {
            const sz = ins.sz;
            if (sz === 8) {
              const s = R[1] >> 31;
              R[4] = s;
              R[5] = s;
            } else if (sz === 4) {
              R[4] = R[0] >> 31;
              R[5] = 0;
            } else R[4] = (R[4] & ~0xffff) | (((R[0] << 16) >> 31) & 0xffff);
            break;
          }
          case Op.XchgRR: {
            const sz = ins.sz;
            const alo = rdS(R, ins.r, sz),
              ahi = sz === 8 ? R[(ins.r << 1) + 1] : 0;
            const blo = rdS(R, ins.rm, sz),
              bhi = sz === 8 ? R[(ins.rm << 1) + 1] : 0;
            wrReg(R, ins.r, sz, blo, bhi);
            wrReg(R, ins.rm, sz, alo, ahi);
            break;
          }
          case Op.XchgRM: {
            // xchg with memory is always locked (SDM): an atomic exchange against the other CPUs
            const sz = ins.sz,
              a = this.ea(ins);
            this.chk(a, sz, P.W);
            const slo = sz === 1 && ins.r >= 16 ? R[(ins.r - 16) << 1] >> 8 : R[ins.r << 1];
            const shi = sz === 8 ? R[(ins.r << 1) + 1] : 0;
            let lo: number, hi: number;
            do {
              lo = this.rd(a, sz);
              hi = sz === 8 ? this.qhi : 0;
            } while (!this.cas(a, sz, lo, hi, slo, shi));
            wrReg(R, ins.r, sz, lo, hi);
            break;
          }
          case Op.SetccR:
            wrReg(R, ins.r, 1, cond(F, ins.alu) ? 1 : 0, 0);
            break;
          case Op.SetccM:
            this.wr(this.ea(ins), 1, cond(F, ins.alu) ? 1 : 0, 0);
            break;
          case Op.CmovR:
          case Op.CmovM: {
            const sz = ins.sz;
            let lo: number, hi: number;
            if (ins.op === Op.CmovR) {
              lo = R[ins.rm << 1];
              hi = R[(ins.rm << 1) + 1];
            } else {
              lo = this.rd(this.ea(ins), sz);
              hi = sz === 8 ? this.qhi : 0;
            }
            if (cond(F, ins.alu)) wrReg(R, ins.r, sz, lo, hi);
            else if (sz === 4) R[(ins.r << 1) + 1] = 0; // a 32-bit cmov always writes (zero-extends) its destination
            break;
          }

          // ---- stack
          case Op.PushR: {
            const s = ins.r << 1;
            const lo = R[s],
              hi = R[s + 1];
            const a = (R[8] >>> 0) - 8;
            if (R[9] === 0 && (a & 7) === 0 && a >= 0 && a + 8 <= memLen && (perms[a >>> 12] & P.W) !== 0) {
              m32[a >>> 2] = lo;
              m32[(a >>> 2) + 1] = hi;
              R[8] = a;
            } else this.pushQ(lo, hi);
            break;
          }
          case Op.PopR: {
            const a = R[8] >>> 0;
            let lo: number, hi: number;
            if (R[9] === 0 && (a & 7) === 0 && a + 8 <= memLen && (perms[a >>> 12] & P.R) !== 0) {
              lo = m32[a >>> 2];
              hi = m32[(a >>> 2) + 1];
              R[8] = a + 8;
            } else {
              lo = this.popQ();
              hi = this.qhi;
            }
            const d = ins.r << 1;
            R[d] = lo;
            R[d + 1] = hi;
            break;
          }
          case Op.PushI:
            this.pushQ(ins.ilo, ins.ihi);
            break;
          case Op.PushM: {
            const lo = this.rd(this.ea(ins), 8),
              hi = this.qhi;
            this.pushQ(lo, hi);
            break;
          }
          case Op.PopM: {
            // the destination address is computed with rsp already incremented (SDM)
            const sp = R[8],
              sph = R[9];
            const lo = this.popQ(),
              hi = this.qhi;
            let a: number;
            try {
              a = this.ea(ins);
              this.wr(a, 8, lo, hi);
            } catch (e) {
              R[8] = sp;
              R[9] = sph;
              throw e;
            }
            break;
          }
          case Op.Leave: {
            // rsp = rbp; rbp = pop()
            const sp = R[8],
              sph = R[9];
            R[8] = R[10];
            R[9] = R[11];
            let lo: number, hi: number;
            try {
              lo = this.popQ();
              hi = this.qhi;
            } catch (e) {
              R[8] = sp;
              R[9] = sph;
              throw e;
            }
            R[10] = lo;
            R[11] = hi;
            break;
          }

          // ---- control flow: these set `ins` themselves and `continue`
          case Op.Jmp:
            n++;
            ins = ins.tnext !== null ? ins.tnext : this.linkTarget(ins);
            continue loop;
          case Op.Jcc: {
            // the cmp/sub + jcc pair is answered from the recorded operands without materializing flags
            let t: boolean;
            if (F[FS.Kind] === FK.Sub) {
              const alo = F[FS.ALo],
                ahi = F[FS.AHi],
                blo = F[FS.BLo],
                bhi = F[FS.BHi];
              switch (ins.alu) {
                case 4:
                  t = alo === blo && ahi === bhi;
                  break;
                case 5:
                  t = alo !== blo || ahi !== bhi;
                  break;
                case 12:
                  t = ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi < bhi;
                  break;
                case 13:
                  t = !(ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi < bhi);
                  break;
                case 14:
                  t = ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi < bhi;
                  break;
                case 15:
                  t = !(ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi < bhi);
                  break;
                case 2:
                  t = ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0;
                  break;
                case 3:
                  t = !(ahi === bhi ? alo >>> 0 < blo >>> 0 : ahi >>> 0 < bhi >>> 0);
                  break;
                case 6:
                  t = ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi >>> 0 < bhi >>> 0;
                  break;
                case 7:
                  t = !(ahi === bhi ? alo >>> 0 <= blo >>> 0 : ahi >>> 0 < bhi >>> 0);
                  break;
                default:
                  t = cond(F, ins.alu);
                  break;
              }
            } else if (F[FS.Kind] === FK.CO && F[FS.Aux] === 0 && ins.alu >= 4 && ins.alu <= 5) {
              const z = (F[FS.RLo] | F[FS.RHi]) === 0;
              t = ins.alu === 4 ? z : !z;
            } else t = cond(F, ins.alu);
            if (t) {
              n++;
              ins = ins.tnext !== null ? ins.tnext : this.linkTarget(ins);
              continue loop;
            }
            break;
          }
          case Op.Call: {
            const ret = ins.end;
            const a = (R[8] >>> 0) - 8;
            if (R[9] === 0 && (a & 7) === 0 && a >= 0 && a + 8 <= memLen && (perms[a >>> 12] & P.W) !== 0) {
              m32[a >>> 2] = ret;
              m32[(a >>> 2) + 1] = 0;
              R[8] = a;
            } else this.pushQ(ret, 0);
            n++;
            ins = ins.tnext !== null ? ins.tnext : this.linkTarget(ins);
            continue loop;
          }
          case Op.CallR:
          case Op.CallM: {
            let lo: number, hi: number;
            if (ins.op === Op.CallR) {
              lo = R[ins.r << 1];
              hi = R[(ins.r << 1) + 1];
            } else {
              lo = this.rd(this.ea(ins), 8);
              hi = this.qhi;
            }
            this.pushQ(ins.end, 0);
            n++;
            ins = this.indirect(ins, lo, hi);
            continue loop;
          }
          case Op.JmpR:
          case Op.JmpM: {
            let lo: number, hi: number;
            if (ins.op === Op.JmpR) {
              lo = R[ins.r << 1];
              hi = R[(ins.r << 1) + 1];
            } else {
              lo = this.rd(this.ea(ins), 8);
              hi = this.qhi;
            }
            n++;
            ins = this.indirect(ins, lo, hi);
            continue loop;
          }
          case Op.Ret: {
            const a = R[8] >>> 0;
            let lo: number, hi: number;
            if (R[9] === 0 && (a & 7) === 0 && a + 8 <= memLen && (perms[a >>> 12] & P.R) !== 0) {
              lo = m32[a >>> 2];
              hi = m32[(a >>> 2) + 1];
              R[8] = a + 8;
            } else {
              lo = this.popQ();
              hi = this.qhi;
            }
            if (ins.ilo !== 0) R[8] = (R[8] >>> 0) + ins.ilo;
            n++;
            // one-entry target cache in tnext: most functions return to one or a few call sites
            const c = ins.tnext;
            if (c !== null && c.addr === lo >>> 0 && hi === 0) {
              ins = c;
              continue loop;
            }
            const x = hi === 0 ? this.lookup(lo >>> 0) : this.target(lo, hi);
            if (x.cached) ins.tnext = x;
            ins = x;
            continue loop;
          }

          // ---- exits
          case Op.Hlt:
            n++;
            exit = Exit.Halt;
            break loop;
          case Op.Int3:
            exit = Exit.Int3;
            break loop;
          case Op.Native:
            exit = Exit.Native;
            break loop;
          case Op.Site:
            exit = Exit.Site;
            break loop;
          case Op.Fault:
            this.raise(ins.fvec, ins.addr, ins.fmsg, ins.fvec === '#PF' ? ins.faddr : undefined, ins.ferr);
            exit = Exit.Fault;
            break loop;
          case Op.StrOp: {
            // rep movs/stos: one element per retired instruction, so a long copy is interruptible (the
            // budget ends in the middle, rip stays at the instruction with rcx/rsi/rdi advanced) as on x86
            const left = budget - n;
            const done = this.strOp(ins, left);
            if (done < 0) {
              n += left;
              continue loop;
            }
            n += done - 1;
            break;
          }
          case Op.BtR:
          case Op.BtM:
          case Op.CmpxchgR:
          case Op.CmpxchgM:
          case Op.XaddR:
          case Op.XaddM:
          case Op.BitScanR:
          case Op.BitScanM:
          case Op.Bswap:
          case Op.ShdR:
          case Op.ShdM:
          case Op.SetDf:
            this.execRare(ins);
            break;
          default:
            this.raise('#UD', ins.addr, `unimplemented op ${ins.op} (${ins.mnem})`);
            exit = Exit.Fault;
            break loop;
        }
        // fall through to the next instruction
        n++;
        ins = ins.next !== null ? ins.next : this.linkNext(ins);
      }
    } catch (e) {
      if (e !== MEM_FAULT) throw e;
      this.raise(this.pendVec, ins.addr, this.pendMsg, this.pendAddr, this.pendErr);
      exit = Exit.Fault;
    }
    this.retired += n;
    this.rip = exit === Exit.Halt ? ins.end : ins.addr;
    return exit;
  }

  // ------------------------------------------------------------------ locked and rare instructions

  /**
   * Commit a read-modify-write of sz bytes at a (already checked writable): store (nlo, nhi) if memory still
   * holds (olo, ohi), atomically against other CPUs' Atomics and locked instructions. An unaligned operand
   * (a split lock, which the kernel warns about) cannot be done atomically here and is stored plainly.
   */
  private cas(a: number, sz: number, olo: number, ohi: number, nlo: number, nhi: number): boolean {
    if ((a & (sz - 1)) !== 0) {
      this.wr(a, sz, nlo, nhi);
      return true;
    }
    if (sz === 4) return Atomics.compareExchange(this.m32, a >>> 2, olo | 0, nlo | 0) === (olo | 0);
    if (sz === 1) return Atomics.compareExchange(this.mem, a, olo & 0xff, nlo & 0xff) === (olo & 0xff);
    if (sz === 2) {
      this.m16 ??= new Uint16Array(this.mem.buffer, this.mem.byteOffset, this.memLen >>> 1);
      return Atomics.compareExchange(this.m16, a >>> 1, olo & 0xffff, nlo & 0xffff) === (olo & 0xffff);
    }
    this.m64 ??= new BigInt64Array(this.mem.buffer, this.mem.byteOffset, this.memLen >>> 3);
    const o = BigInt.asIntN(64, joinBig(olo, ohi));
    return Atomics.compareExchange(this.m64, a >>> 3, o, BigInt.asIntN(64, joinBig(nlo, nhi))) === o;
  }

  /** A lock-prefixed ALU or inc/dec/not/neg on memory: compute, commit with cas(), retry if another CPU wrote. */
  private lockedRmw(ins: Insn): void {
    const R = this.regs,
      F = this.F;
    const sz = ins.sz,
      op = ins.alu;
    const a = this.ea(ins);
    this.chk(a, sz, P.W);
    // inc/dec keep CF and adc/sbb read it: a retry must start from the flags the instruction found
    const saved = this.Fsave;
    saved.set(F);
    for (let retry = false; ; retry = true) {
      if (retry) F.set(saved);
      const raw = this.rd(a, sz);
      const rawHi = sz === 8 ? this.qhi : 0;
      const v = sz === 8 ? raw : sx(raw, sz),
        vh = sz === 8 ? rawHi : v >> 31;
      let rlo: number, rhi: number;
      if (ins.op === Op.UnM) {
        if (op === 2) {
          rlo = ~v;
          rhi = ~vh;
        } else {
          unary(F, op, v, vh, sz);
          rlo = F[FS.RLo];
          rhi = F[FS.RHi];
        }
      } else {
        let b: number, bh: number;
        if (ins.op === Op.AluMI) {
          b = ins.ilo;
          bh = b >> 31;
        } else {
          b = sz === 8 ? R[ins.r << 1] : rdS(R, ins.r, sz);
          bh = sz === 8 ? R[(ins.r << 1) + 1] : b >> 31;
        }
        alu(F, op, v, vh, b, bh, sz);
        if (op >= 7) return; // cmp/test write nothing (and take no lock on real hardware either)
        rlo = F[FS.RLo];
        rhi = F[FS.RHi];
      }
      if (this.cas(a, sz, raw, rawHi, rlo, rhi)) return;
    }
  }

  /** rsi/rdi-style address from a register pair: a 64-bit one is handed to the access as NaN (it faults). */
  private regAddr(r: number): number {
    const lo = this.regs[r << 1],
      hi = this.regs[(r << 1) + 1];
    if (hi === 0) return lo >>> 0;
    this.pendBig = joinBig(lo, hi);
    return NaN;
  }

  /** Add d to a 64-bit register. */
  private addReg(r: number, d: number): void {
    const R = this.regs;
    const s = (R[r << 1] >>> 0) + d;
    R[r << 1] = s | 0;
    R[(r << 1) + 1] = (R[(r << 1) + 1] + Math.floor(s / TWO32)) | 0;
  }

  /**
   * movs/stos, with rep up to `max` elements. Returns how many elements it did when the instruction is
   * complete (1 for rep with rcx = 0, which does nothing), or -1 after `max` elements with rcx still non-zero.
   */
  private strOp(ins: Insn, max: number): number {
    const R = this.regs;
    const sz = ins.sz;
    const step = (this.otherFlags & DF) !== 0 ? -sz : sz;
    const movs = ins.alu === 0;
    const one = (): void => {
      const d = this.regAddr(Reg.RDI);
      if (movs) {
        const lo = this.rd(this.regAddr(Reg.RSI), sz),
          hi = this.qhi;
        this.wr(d, sz, lo, hi);
        this.addReg(Reg.RSI, step);
      } else this.wr(d, sz, R[0], R[1]);
      this.addReg(Reg.RDI, step);
    };
    if (ins.ext === 0) {
      one();
      return 1;
    }
    let done = 0;
    while ((R[2] | R[3]) !== 0) {
      if (done === max) return -1;
      one();
      this.addReg(Reg.RCX, -1);
      done++;
    }
    return Math.max(done, 1);
  }

  /** Instructions gcc emits rarely enough that they live outside run()'s switch. */
  private execRare(ins: Insn): void {
    const R = this.regs,
      F = this.F;
    const sz = ins.sz;
    switch (ins.op) {
      case Op.SetDf:
        this.otherFlags = ins.alu === 0 ? this.otherFlags & ~DF : this.otherFlags | DF;
        return;
      case Op.BtR: {
        const w = sz * 8;
        const n = (ins.ext !== 0 ? ins.ilo : R[ins.rm << 1]) & (w - 1);
        const d = ins.r << 1;
        const lo = R[d],
          hi = sz === 8 ? R[d + 1] : 0;
        const inHi = n >= 32;
        const m = 1 << (n & 31);
        const cf = ((inHi ? hi : lo) & m) !== 0 ? 1 : 0;
        setCarryOverflow(F, cf, (statusFlags(F) & OF) !== 0 ? 1 : 0);
        if (ins.alu === 0) return;
        let word = inHi ? hi : lo;
        word = ins.alu === 1 ? word | m : ins.alu === 2 ? word & ~m : word ^ m;
        wrReg(R, ins.r, sz, inHi ? lo : word, inHi ? word : hi);
        return;
      }
      case Op.BtM: {
        // a register offset addresses a bit string: the signed offset picks the operand-sized word
        const w = sz * 8;
        let a = this.ea(ins);
        let n: number;
        if (ins.ext !== 0) n = ins.ilo & (w - 1);
        else {
          const off = sz === 8 ? R[(ins.r << 1) + 1] * TWO32 + (R[ins.r << 1] >>> 0) : rdS(R, ins.r, sz);
          const word = Math.floor(off / w);
          a += word * sz;
          n = off - word * w;
        }
        if (ins.alu !== 0) this.chk(a, sz, P.W);
        const bo = a + (n >>> 3),
          m = 1 << (n & 7);
        for (;;) {
          this.chk(a, sz, P.R);
          const old = this.mem[bo];
          const cf = (old & m) !== 0 ? 1 : 0;
          setCarryOverflow(F, cf, (statusFlags(F) & OF) !== 0 ? 1 : 0);
          if (ins.alu === 0) return;
          const nb = ins.alu === 1 ? old | m : ins.alu === 2 ? old & ~m : old ^ m;
          // the byte holding the bit is the one that changes: commit it alone (atomic for lock bts)
          if (ins.lock === 0) {
            this.mem[bo] = nb;
            return;
          }
          if (Atomics.compareExchange(this.mem, bo, old, nb & 0xff) === old) return;
        }
      }
      case Op.CmpxchgR: {
        const acc = rdS(R, Reg.RAX, sz),
          acch = sz === 8 ? R[1] : acc >> 31;
        const dl = rdS(R, ins.r, sz),
          dh = sz === 8 ? R[(ins.r << 1) + 1] : dl >> 31;
        alu(F, 7, acc, acch, dl, dh, sz);
        if (acc === dl && acch === dh) wrReg(R, ins.r, sz, rdS(R, ins.rm, sz), sz === 8 ? R[(ins.rm << 1) + 1] : 0);
        else wrReg(R, Reg.RAX, sz, dl, dh);
        return;
      }
      case Op.CmpxchgM: {
        const a = this.ea(ins);
        this.chk(a, sz, P.W);
        const slo = sz === 1 && ins.r >= 16 ? R[(ins.r - 16) << 1] >> 8 : R[ins.r << 1],
          shi = sz === 8 ? R[(ins.r << 1) + 1] : 0;
        for (;;) {
          const raw = this.rd(a, sz),
            rawHi = sz === 8 ? this.qhi : 0;
          const v = sz === 8 ? raw : sx(raw, sz),
            vh = sz === 8 ? rawHi : v >> 31;
          const acc = rdS(R, Reg.RAX, sz),
            acch = sz === 8 ? R[1] : acc >> 31;
          alu(F, 7, acc, acch, v, vh, sz);
          if (acc === v && acch === vh) {
            if (this.cas(a, sz, raw, rawHi, slo, shi)) return;
            continue; // the value changed under us: compare again
          }
          wrReg(R, Reg.RAX, sz, raw, rawHi);
          return;
        }
      }
      case Op.XaddR: {
        const dl = rdS(R, ins.r, sz),
          dh = sz === 8 ? R[(ins.r << 1) + 1] : dl >> 31;
        const sl = rdS(R, ins.rm, sz),
          sh = sz === 8 ? R[(ins.rm << 1) + 1] : sl >> 31;
        alu(F, 0, dl, dh, sl, sh, sz);
        wrReg(R, ins.rm, sz, dl, dh);
        wrReg(R, ins.r, sz, F[FS.RLo], F[FS.RHi]);
        return;
      }
      case Op.XaddM: {
        const a = this.ea(ins);
        this.chk(a, sz, P.W);
        const sl = rdS(R, ins.r, sz),
          sh = sz === 8 ? R[(ins.r << 1) + 1] : sl >> 31;
        for (;;) {
          const raw = this.rd(a, sz),
            rawHi = sz === 8 ? this.qhi : 0;
          const v = sz === 8 ? raw : sx(raw, sz),
            vh = sz === 8 ? rawHi : v >> 31;
          alu(F, 0, v, vh, sl, sh, sz);
          if (this.cas(a, sz, raw, rawHi, F[FS.RLo], F[FS.RHi])) {
            wrReg(R, ins.r, sz, raw, rawHi);
            return;
          }
        }
      }
      case Op.BitScanR:
      case Op.BitScanM: {
        let lo: number, hi: number;
        if (ins.op === Op.BitScanR) {
          lo = R[ins.rm << 1];
          hi = sz === 8 ? R[(ins.rm << 1) + 1] : 0;
        } else {
          lo = this.rd(this.ea(ins), sz);
          hi = sz === 8 ? this.qhi : 0;
        }
        if (sz === 2) lo &= 0xffff;
        if (sz !== 8) hi = 0;
        const w = sz * 8;
        const zero = (lo | hi) === 0;
        const tz = lo !== 0 ? 31 - Math.clz32(lo & -lo) : hi !== 0 ? 63 - Math.clz32(hi & -hi) : w;
        const lz = hi !== 0 ? Math.clz32(hi) : w === 64 ? 32 + Math.clz32(lo) : Math.clz32(lo) - (32 - w);
        let res: number, f: number;
        switch (ins.alu) {
          case 0: // bsf: ZF when the source is zero, and then the destination is left as it was
          case 1:
            f = zero ? ZF : 0;
            F[FS.Kind] = FK.Raw;
            F[FS.Aux] = f;
            if (zero) return;
            res = ins.alu === 0 ? tz : w - 1 - lz;
            break;
          case 2: // tzcnt, lzcnt: CF when the source is zero, ZF when the count is
          case 3:
            res = ins.alu === 2 ? tz : lz;
            F[FS.Kind] = FK.Raw;
            F[FS.Aux] = (zero ? CF : 0) | (res === 0 ? ZF : 0);
            break;
          default: {
            let c = 0;
            for (let x = lo; x !== 0; x &= x - 1) c++;
            for (let x = hi; x !== 0; x &= x - 1) c++;
            res = c;
            F[FS.Kind] = FK.Raw;
            F[FS.Aux] = zero ? ZF : 0;
          }
        }
        wrReg(R, ins.r, sz, res, 0);
        return;
      }
      case Op.Bswap: {
        const d = ins.r << 1;
        const sw = (x: number): number => ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24);
        if (sz === 8) {
          const lo = R[d];
          R[d] = sw(R[d + 1]);
          R[d + 1] = sw(lo);
        } else {
          R[d] = sw(R[d]);
          R[d + 1] = 0;
        }
        return;
      }
      case Op.ShdR:
      case Op.ShdM: {
        const w = sz * 8;
        const c = (ins.ext !== 0 ? R[2] : ins.ilo) & (sz === 8 ? 63 : 31);
        let a = 0,
          dlo: number,
          dhi: number;
        const src = ins.op === Op.ShdR ? ins.rm : ins.r;
        if (ins.op === Op.ShdR) {
          dlo = R[ins.r << 1];
          dhi = R[(ins.r << 1) + 1];
        } else {
          a = this.ea(ins);
          this.chk(a, sz, P.W);
          dlo = this.rd(a, sz);
          dhi = this.qhi;
        }
        if (c === 0) {
          if (ins.op === Op.ShdR && sz === 4) R[(ins.r << 1) + 1] = 0;
          return;
        }
        const W = BigInt(w),
          m = (1n << W) - 1n,
          n = BigInt(c);
        const dv = joinBig(dlo, sz === 8 ? dhi : 0) & m;
        const sv = joinBig(R[src << 1], R[(src << 1) + 1]) & m;
        // the count may exceed a 16-bit operand (undefined in the SDM): shift the w-bit pair as hardware does
        const r = ins.alu === 0 ? ((dv << n) | (sv >> (W - n))) & m : ((dv >> n) | (sv << (W - n))) & m;
        const cf = Number(ins.alu === 0 ? (dv >> (W - n)) & 1n : (dv >> (n - 1n)) & 1n);
        const res = BigInt.asIntN(w, r);
        const [rlo, rhi] = splitBig(res);
        const of = (rhi < 0 ? 1 : 0) ^ (Number(dv >> (W - 1n)) & 1);
        F[FS.Kind] = FK.CO;
        F[FS.RLo] = rlo;
        F[FS.RHi] = rhi;
        F[FS.Aux] = cf | (of !== 0 ? OF : 0);
        if (ins.op === Op.ShdR) wrReg(R, ins.r, sz, rlo, rhi);
        else this.wr(a, sz, rlo, rhi);
        return;
      }
    }
  }

  /** f6/f7 /4 mul, /5 imul, /6 div, /7 idiv (rare: BigInt). Operand v sign-extended from sz. */
  private mulDiv(op: number, sz: number, v: number, vh: number): void {
    const R = this.regs,
      F = this.F;
    const bits = BigInt(sz * 8);
    const mask = (1n << bits) - 1n;
    const signed = op === 5 || op === 7;
    const src = signed ? BigInt.asIntN(sz * 8, joinBig(v, vh)) : joinBig(v, vh) & mask;
    const regVal = (r: number): bigint => joinBig(R[r << 1], R[(r << 1) + 1]) & mask;
    if (op === 4 || op === 5) {
      let a: bigint;
      if (sz === 1) a = BigInt(R[0] & 0xff);
      else a = regVal(Reg.RAX);
      if (signed) a = BigInt.asIntN(sz * 8, a);
      const p = a * src;
      const low = p & mask,
        high = (p >> bits) & mask;
      const ovf = signed ? BigInt.asIntN(sz * 8, low) !== p : high !== 0n;
      if (sz === 1) {
        R[0] = (R[0] & ~0xffff) | Number(p & 0xffffn);
      } else {
        const [llo, lhi] = splitBig(low),
          [hlo, hhi] = splitBig(high);
        wrReg(R, Reg.RAX, sz, llo, lhi);
        wrReg(R, Reg.RDX, sz, hlo, hhi);
      }
      const lowSx = BigInt.asIntN(sz * 8, low);
      const [rlo, rhi] = splitBig(lowSx);
      F[FS.Kind] = FK.CO;
      F[FS.RLo] = rlo;
      F[FS.RHi] = rhi;
      F[FS.Aux] = ovf ? CF | OF : 0;
      return;
    }
    let dividend: bigint;
    if (sz === 1) dividend = BigInt(R[0] & 0xffff);
    else dividend = (regVal(Reg.RDX) << bits) | regVal(Reg.RAX);
    if (signed) dividend = BigInt.asIntN(sz * 16, dividend);
    if (src === 0n) {
      this.pendVec = '#DE';
      this.pendAddr = 0;
      this.pendMsg = 'divide error: division by zero';
      throw MEM_FAULT;
    }
    const q = dividend / src,
      r = dividend % src;
    const fits = signed ? BigInt.asIntN(sz * 8, q) === q : q <= mask;
    if (!fits) {
      this.pendVec = '#DE';
      this.pendAddr = 0;
      this.pendMsg = 'divide error: quotient overflow';
      throw MEM_FAULT;
    }
    if (sz === 1) {
      R[0] = (R[0] & ~0xffff) | Number(BigInt.asUintN(8, q)) | (Number(BigInt.asUintN(8, r)) << 8);
    } else {
      const [qlo, qhi] = splitBig(q),
        [rlo, rhi] = splitBig(r);
      wrReg(R, Reg.RAX, sz, qlo, qhi);
      wrReg(R, Reg.RDX, sz, rlo, rhi);
    }
  }

  // ------------------------------------------------------------------ host-facing helpers

  getReg(r: Reg): bigint {
    return joinBig(this.regs[r << 1], this.regs[(r << 1) + 1]);
  }

  setReg(r: Reg, v: bigint): void {
    const [lo, hi] = splitBig(v);
    this.regs[r << 1] = lo;
    this.regs[(r << 1) + 1] = hi;
  }

  /** Low 32 bits unsigned when the high half is 0; otherwise the signed 64-bit value (exact while |v| < 2^53). */
  getRegNum(r: Reg): number {
    const lo = this.regs[r << 1],
      hi = this.regs[(r << 1) + 1];
    return hi === 0 ? lo >>> 0 : hi * TWO32 + (lo >>> 0);
  }

  /** Any safe integer; negative values are sign-extended. */
  setRegNum(r: Reg, v: number): void {
    this.regs[r << 1] = v | 0;
    this.regs[(r << 1) + 1] = Math.floor(v / TWO32) | 0;
  }

  /** CF|PF|ZF|SF|OF exactly, plus any other bits last given to setRflags (AF only via setRflags). */
  getRflags(): number {
    return statusFlags(this.F) | this.otherFlags;
  }

  setRflags(v: number): void {
    this.F[FS.Kind] = FK.Raw;
    this.F[FS.Aux] = v & STATUS_FLAGS;
    this.otherFlags = v & ~STATUS_FLAGS;
  }

  /**
   * Push a 64-bit value (host emulating a call). Honours permissions: on a fault nothing changes, `fault`
   * is set (rip = the current rip) and false is returned; run() will not clear it.
   */
  push64(v: number): boolean {
    const lo = v | 0,
      hi = Math.floor(v / TWO32) | 0;
    try {
      this.pushQ(lo, hi);
      return true;
    } catch (e) {
      if (e !== MEM_FAULT) throw e;
      this.raise(this.pendVec, this.rip, this.pendMsg, this.pendAddr, this.pendErr);
      return false;
    }
  }

  /**
   * Pop a 64-bit value (host emulating a return), as a number (like getRegNum). On a fault: `fault` is set,
   * rsp is unchanged and NaN is returned.
   */
  pop64(): number {
    try {
      const lo = this.popQ(),
        hi = this.qhi;
      return hi === 0 ? lo >>> 0 : hi * TWO32 + (lo >>> 0);
    } catch (e) {
      if (e !== MEM_FAULT) throw e;
      this.raise(this.pendVec, this.rip, this.pendMsg, this.pendAddr, this.pendErr);
      return NaN;
    }
  }

  getContext(): CpuContext {
    return { regs: new Int32Array(this.regs), rip: this.rip, rflags: this.getRflags() };
  }

  setContext(c: CpuContext): void {
    this.regs.set(c.regs);
    this.rip = c.rip;
    this.setRflags(c.rflags);
  }

  readU64(addr: number): bigint {
    const m = this.mem;
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(m[addr + i]);
    return v;
  }

  readU32(addr: number): number {
    const m = this.mem;
    return (m[addr] | (m[addr + 1] << 8) | (m[addr + 2] << 16) | (m[addr + 3] << 24)) >>> 0;
  }

  readU8(addr: number): number {
    return this.mem[addr];
  }
}
