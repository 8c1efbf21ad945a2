/**
 * x86-64 decoder for the instruction subset klpsim executes.
 *
 * Each instruction is decoded once into an `Insn` record which the interpreter caches by address and executes
 * via a `switch` on `op`. Records are all created by one constructor with every field initialized, so every
 * record has the same hidden class (property loads in the hot loop stay monomorphic), and every numeric field
 * is a small integer (Smi).
 *
 * Operand encoding conventions in a record:
 *  - register numbers are the hardware numbers 0..15 (REX bits applied). For BYTE operands, 16..19 mean
 *    AH, CH, DH, BH (the legacy high-byte registers, only reachable without a REX prefix).
 *  - a memory operand is base (-1 = none) + index (-1 = none) * scale + disp. For RIP-relative operands the
 *    decoder folds the end-of-instruction address into `disp` and sets base = -1, so the interpreter never
 *    needs to know rip to compute an address.
 *  - immediates are stored as int32 halves (ilo, ihi) already sign-extended to the operand size's
 *    destination (e.g. `mov eax, imm32` has ihi = 0, `mov rax, imm32` has ihi = sign).
 */

import { FaultVector, PAGE_SHIFT, PERM_X, PF_INSTR, PF_PROT } from './cpu-types';

/** Operation ids (the interpreter's switch). Keep small and dense: V8 compiles a dense switch to a jump table. */
export const enum Op {
  Nop = 0,
  /** host classified the address as a kernel service */
  Native = 1,
  /** host classified the address as an ftrace site */
  Site = 2,
  Int3 = 3,
  Hlt = 4,
  /** decode-time fault (#UD, #PF on fetch, #GP): raised when executed */
  Fault = 5,
  MovRR64 = 6,
  MovRR32 = 7,
  /** write a full 64-bit register from (ilo, ihi) */
  MovRI = 8,
  /** reg <- reg with size/extension: mov r8/r16, movzx, movsx, movsxd. sz = source size, dsz = dest size, ext = 1 sign */
  MovX = 9,
  /** reg <- [mem]: sz = source size, dsz = destination size, ext = 1 sign-extend */
  Load = 10,
  /** [mem] <- reg (sz) */
  Store = 11,
  /** [mem] <- imm (sz) */
  StoreI = 12,
  /** partial register (8/16-bit) <- imm */
  MovRIN = 13,
  Lea = 14,
  /** alu: 0 add 1 or 2 adc 3 sbb 4 and 5 sub 6 xor 7 cmp 8 test. r = dst, rm = src */
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
  /** alu = condition code */
  Jcc = 26,
  Call = 27,
  CallR = 28,
  CallM = 29,
  JmpR = 30,
  JmpM = 31,
  /** ilo = bytes to release (ret imm16) */
  Ret = 32,
  Leave = 33,
  /** alu: 0 inc 1 dec 2 not 3 neg */
  UnR = 34,
  UnM = 35,
  /** alu: 4 shl 5 shr 7 sar; ext = count from CL (1) or ilo (0) */
  ShR = 36,
  ShM = 37,
  /** imul r, r/m [, imm]: ext = 1 when an immediate is present */
  ImulR = 38,
  ImulM = 39,
  /** cbw/cwde/cdqe (sz = destination size) */
  Cdqe = 40,
  /** cwd/cdq/cqo */
  Cqo = 41,
  XchgRR = 42,
  XchgRM = 43,
  /** alu = cc; r = destination byte register */
  SetccR = 44,
  SetccM = 45,
  /** alu = cc */
  CmovR = 46,
  CmovM = 47,
  /** f6/f7 /4../7 mul, imul, div, idiv (one operand); alu = /digit */
  MulDivR = 48,
  MulDivM = 49,
  /** bt/bts/btr/btc (alu 0..3) on a register: r = the register tested, rm = bit-offset register, ext = 1 imm in ilo */
  BtR = 50,
  /** bt* on memory: r = bit-offset register (a register offset addresses a bit string, SDM "BT") */
  BtM = 51,
  /** cmpxchg r/m, reg: CmpxchgR r = destination (modrm.rm), rm = source; CmpxchgM r = source */
  CmpxchgR = 52,
  CmpxchgM = 53,
  /** xadd r/m, reg: same register conventions as cmpxchg */
  XaddR = 54,
  XaddM = 55,
  /** bsf/bsr/tzcnt/lzcnt/popcnt (alu 0..4): r = destination, rm = source register */
  BitScanR = 56,
  BitScanM = 57,
  /** bswap r */
  Bswap = 58,
  /** shld/shrd (alu 0/1): ShdR r = destination (modrm.rm), rm = source; ShdM r = source; ext = 1 count in CL */
  ShdR = 59,
  ShdM = 60,
  /** movs (alu 0) / stos (alu 1), sz = element size, ext = 1 with a rep prefix */
  StrOp = 61,
  /** cld (alu 0) / std (alu 1) */
  SetDf = 62,
}

export const enum Alu {
  Add = 0,
  Or = 1,
  Adc = 2,
  Sbb = 3,
  And = 4,
  Sub = 5,
  Xor = 6,
  Cmp = 7,
  Test = 8,
}

const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test'];
const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
const BT_NAMES = ['bt', 'bts', 'btr', 'btc'];
const SCAN_NAMES = ['bsf', 'bsr', 'tzcnt', 'lzcnt', 'popcnt'];

/** Insn.fmt bits: how the operands were encoded, for disasm.ts (the interpreter never reads them). */
export const FMT_MEM = 1;
export const FMT_RIPREL = 2;

/**
 * A compiled block (block-compiler.ts) of the straight-line run starting at an instruction. It hangs off
 * that instruction's cached record, so it is declared here, with the record: block-compiler.ts only fills it.
 */
export interface Block {
  /** runs the block with `left` instructions of budget (at least len); see block-compiler.ts for the codes */
  fn: (left: number) => number;
  len: number;
  insns: Insn[];
  last: Insn;
  /** a looping block: S[2] says how many whole iterations it ran before the one it returned from */
  loop: boolean;
}

export class Insn {
  op: number;
  /** address of the first byte */
  addr: number;
  /** address of the next instruction (addr + len) */
  end: number;
  len: number;
  /** operand size in bytes (1, 2, 4, 8) */
  sz: number;
  /** destination size for Load/MovX/Lea */
  dsz: number;
  /** sub-operation (ALU op, condition code, shift kind, /digit) */
  alu: number;
  /** 1 = sign-extend (Load/MovX), count in CL (shifts), has immediate (imul) */
  ext: number;
  r: number;
  rm: number;
  base: number;
  index: number;
  scale: number;
  disp: number;
  ilo: number;
  ihi: number;
  /** branch target (Jmp/Jcc/Call) */
  tgt: number;
  /** 1 = a lock prefix: the memory read-modify-write is atomic against other CPUs */
  lock: number;
  /** FMT_* bits (a memory operand, RIP-relative) */
  fmt: number;
  /** whether this record may be cached (int3 and fetch faults are not) */
  cached: boolean;
  /** linked successor for fall-through (filled lazily by the interpreter) */
  next: Insn | null;
  /** linked successor for the taken branch of a direct jump/call/jcc */
  tnext: Insn | null;
  /** Op.Fault: the vector and message */
  fvec: FaultVector;
  fmsg: string;
  /** for Op.Fault #PF on fetch: the faulting fetch address and the page-fault error code */
  faddr: number;
  ferr: number;
  /** coarse mnemonic (as objdump -M intel prints it), for tests and traces */
  mnem: string;
  /** executions counted towards compiling a block that starts here (interpreter.ts) */
  hot: number;
  /** the compiled block starting here (block-compiler.ts), or null */
  blk: Block | null;

  constructor(addr: number) {
    this.op = Op.Nop;
    this.addr = addr;
    this.end = addr;
    this.len = 0;
    this.sz = 4;
    this.dsz = 4;
    this.alu = 0;
    this.ext = 0;
    this.r = 0;
    this.rm = 0;
    this.base = -1;
    this.index = -1;
    this.scale = 1;
    this.disp = 0;
    this.ilo = 0;
    this.ihi = 0;
    this.tgt = 0;
    this.lock = 0;
    this.fmt = 0;
    this.cached = true;
    this.next = null;
    this.tnext = null;
    this.fvec = '#UD';
    this.fmsg = '';
    this.faddr = 0;
    this.ferr = 0;
    this.mnem = '';
    this.hot = 0;
    this.blk = null;
  }
}

/** Thrown inside the decoder for a fetch that is out of memory or not executable. */
class FetchFault {
  constructor(
    readonly addr: number,
    readonly message: string,
    readonly errorCode: number,
  ) {}
}
/** Thrown inside the decoder for an undecodable instruction. */
class BadOpcode {
  constructor(readonly message: string) {}
}

const MAX_INSN = 15;

function hex(v: number): string {
  return '0x' + v.toString(16);
}

/**
 * Decode the instruction at `addr`. Never throws: problems come back as an Op.Fault record
 * (#PF for a fetch outside memory or from a page without PERM_X, #UD for an unknown opcode or ud2).
 * An 0xcc byte yields Op.Int3 (not cacheable). `perms` may be null to skip execute-permission checks.
 */
export function decode(mem: Uint8Array, perms: Uint8Array | null, addr: number): Insn {
  const ins = new Insn(addr);
  let p = addr;
  const fetch = (): number => {
    if (p - addr >= MAX_INSN) throw new BadOpcode('instruction longer than 15 bytes');
    if (!(p >= 0 && p < mem.length)) throw new FetchFault(p, `instruction fetch from invalid address ${hex(p)}`, PF_INSTR);
    if (perms !== null && (perms[p >>> PAGE_SHIFT] & PERM_X) === 0) {
      // a mapped page without execute permission is an NX violation (PROT); an unmapped one is not present
      const err = PF_INSTR | (perms[p >>> PAGE_SHIFT] !== 0 ? PF_PROT : 0);
      throw new FetchFault(p, `instruction fetch from non-executable page ${hex(p & ~0xfff)}`, err);
    }
    return mem[p++];
  };
  try {
    decodeInto(ins, fetch, () => p);
  } catch (e) {
    ins.op = Op.Fault;
    if (ins.mnem !== 'ud2') ins.mnem = '(bad)';
    if (e instanceof FetchFault) {
      ins.fvec = '#PF';
      ins.fmsg = e.message;
      ins.faddr = e.addr;
      ins.ferr = e.errorCode;
      ins.cached = false; // permissions may change (module load) without an icache flush
    } else if (e instanceof BadOpcode) {
      ins.fvec = '#UD';
      const bytes: string[] = [];
      for (let q = addr; q < Math.min(p + 1, addr + MAX_INSN, mem.length); q++) bytes.push(mem[q].toString(16).padStart(2, '0'));
      ins.fmsg = `${e.message} (${bytes.join(' ')})`;
    } else {
      throw e;
    }
    ins.end = p;
    ins.len = p - addr;
  }
  return ins;
}

/** Length in bytes of the instruction at `addr`, or -1 if it cannot be decoded. No permission checks. */
export function decodeLength(mem: Uint8Array, addr: number): number {
  const ins = decode(mem, null, addr);
  return ins.op === Op.Fault ? -1 : ins.len;
}

/** Decode without permission checks, for tools and tests. */
export function decodeAt(mem: Uint8Array, addr: number): Insn {
  return decode(mem, null, addr);
}

function decodeInto(ins: Insn, fetch: () => number, pos: () => number): void {
  const addr = ins.addr;
  let opsz16 = false,
    rep = 0,
    seg = 0,
    rex = 0,
    hasRex = false;
  let b: number;
  // ---- prefixes
  for (;;) {
    b = fetch();
    if (b === 0x66) {
      opsz16 = true;
      rex = 0;
      hasRex = false;
      continue;
    }
    if (b === 0xf2 || b === 0xf3) {
      rep = b;
      rex = 0;
      hasRex = false;
      continue;
    }
    if (b === 0xf0) {
      ins.lock = 1;
      rex = 0;
      hasRex = false;
      continue;
    }
    if (b === 0x2e || b === 0x3e || b === 0x26 || b === 0x36) {
      rex = 0;
      hasRex = false;
      continue;
    }
    if (b === 0x64 || b === 0x65) {
      seg = b;
      rex = 0;
      hasRex = false;
      continue;
    }
    if (b === 0x67) throw new BadOpcode('address-size prefix unsupported');
    if ((b & 0xf0) === 0x40) {
      rex = b;
      hasRex = true;
      continue;
    }
    break;
  }
  const W = (rex & 8) !== 0;
  const rexR = (rex & 4) << 1,
    rexX = (rex & 2) << 2,
    rexB = (rex & 1) << 3;
  const osz = W ? 8 : opsz16 ? 2 : 4;

  // ---- ModRM helpers
  let mod = 0,
    regf = 0,
    rmf = 0,
    ripRel = false;
  const modrm = (): void => {
    const m = fetch();
    mod = m >> 6;
    regf = (m >> 3) & 7;
    rmf = m & 7;
    if (mod === 3) {
      ins.rm = rmf | rexB;
      return;
    }
    ins.fmt |= FMT_MEM;
    if (rmf === 4) {
      const sib = fetch();
      const ss = sib >> 6,
        idx = ((sib >> 3) & 7) | rexX,
        bs = sib & 7;
      ins.scale = 1 << ss;
      ins.index = idx === 4 ? -1 : idx;
      if (bs === 5 && mod === 0) {
        ins.base = -1;
        ins.disp = disp32();
      } else {
        ins.base = bs | rexB;
      }
    } else if (rmf === 5 && mod === 0) {
      ripRel = true;
      ins.fmt |= FMT_RIPREL;
      ins.base = -1;
      ins.disp = disp32();
    } else {
      ins.base = rmf | rexB;
    }
    if (mod === 1) ins.disp = (fetch() << 24) >> 24;
    else if (mod === 2) ins.disp = disp32();
  };
  const disp32 = (): number => {
    const a = fetch(),
      c = fetch(),
      d = fetch(),
      e = fetch();
    return a | (c << 8) | (d << 16) | (e << 24);
  };
  const imm8 = (): number => (fetch() << 24) >> 24;
  const imm16 = (): number => {
    const a = fetch();
    return ((a | (fetch() << 8)) << 16) >> 16;
  };
  const immSz = (sz: number): number => (sz === 1 ? imm8() : sz === 2 ? imm16() : disp32());
  const isReg = (): boolean => mod === 3;
  const reg = (): number => regf | rexR;
  /** byte-register number for a reg/rm field value (16..19 = ah..bh when no REX) */
  const r8 = (n: number): number => (!hasRex && n >= 4 && n < 8 ? 16 + n - 4 : n);
  const setImm = (v: number, sz: number): void => {
    // store the immediate sign-extended to 64 bits; consumers that need zero-extension mask by size
    ins.ilo = v | 0;
    ins.ihi = sz === 8 ? (v | 0) >> 31 : 0;
  };
  const finish = (): void => {
    const end = pos();
    ins.end = end;
    ins.len = end - addr;
    if (ripRel) ins.disp = end + ins.disp; // absolute address; may be out of range, the access will fault
    if (seg !== 0 && ins.op !== Op.Nop) throw new BadOpcode('fs/gs segment override unsupported');
  };
  const bad = (): never => {
    throw new BadOpcode('invalid opcode');
  };
  const aluName = (a: number): string => ALU_NAMES[a];

  // ---- one-byte opcodes
  if (b < 0x40 && (b & 7) < 6 && b !== 0x0f) {
    const alu = b >> 3,
      form = b & 7;
    ins.alu = alu;
    ins.mnem = aluName(alu);
    const sz = (form & 1) === 0 ? 1 : osz;
    ins.sz = sz;
    if (form < 4) {
      modrm();
      const rg = sz === 1 ? r8(reg()) : reg();
      if (isReg()) {
        const rmr = sz === 1 ? r8(ins.rm) : ins.rm;
        ins.op = Op.AluRR;
        if (form < 2) {
          ins.r = rmr;
          ins.rm = rg;
        } else {
          ins.r = rg;
          ins.rm = rmr;
        }
      } else {
        ins.r = rg;
        ins.op = form < 2 ? Op.AluMR : Op.AluRM;
      }
    } else {
      ins.op = Op.AluRI;
      ins.r = 0;
      setImm(immSz(sz === 8 ? 4 : sz), sz);
    }
    finish();
    return;
  }
  switch (b) {
    case 0x0f: {
      twoByte();
      return;
    }
    case 0x50:
    case 0x51:
    case 0x52:
    case 0x53:
    case 0x54:
    case 0x55:
    case 0x56:
    case 0x57:
      if (opsz16) bad();
      ins.op = Op.PushR;
      ins.r = (b & 7) | rexB;
      ins.sz = 8;
      ins.mnem = 'push';
      break;
    case 0x58:
    case 0x59:
    case 0x5a:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5e:
    case 0x5f:
      if (opsz16) bad();
      ins.op = Op.PopR;
      ins.r = (b & 7) | rexB;
      ins.sz = 8;
      ins.mnem = 'pop';
      break;
    case 0x63:
      modrm();
      ins.r = reg();
      ins.sz = 4;
      ins.dsz = W ? 8 : osz;
      ins.ext = W ? 1 : 0;
      ins.mnem = 'movsxd';
      ins.op = isReg() ? Op.MovX : Op.Load;
      break;
    case 0x68:
      ins.op = Op.PushI;
      ins.sz = 8;
      setImm(disp32(), 8);
      ins.mnem = 'push';
      if (opsz16) bad();
      break;
    case 0x6a:
      ins.op = Op.PushI;
      ins.sz = 8;
      setImm(imm8(), 8);
      ins.mnem = 'push';
      if (opsz16) bad();
      break;
    case 0x69:
    case 0x6b:
      modrm();
      ins.r = reg();
      ins.sz = osz;
      ins.ext = 1;
      ins.mnem = 'imul';
      ins.op = isReg() ? Op.ImulR : Op.ImulM;
      setImm(b === 0x6b ? imm8() : immSz(osz === 8 ? 4 : osz), osz);
      break;
    case 0x70:
    case 0x71:
    case 0x72:
    case 0x73:
    case 0x74:
    case 0x75:
    case 0x76:
    case 0x77:
    case 0x78:
    case 0x79:
    case 0x7a:
    case 0x7b:
    case 0x7c:
    case 0x7d:
    case 0x7e:
    case 0x7f: {
      const d = imm8();
      ins.op = Op.Jcc;
      ins.alu = b & 15;
      ins.tgt = pos() + d;
      ins.mnem = 'j' + CC_NAMES[b & 15];
      break;
    }
    case 0x80:
    case 0x81:
    case 0x83: {
      modrm();
      const sz = b === 0x80 ? 1 : osz;
      ins.sz = sz;
      ins.alu = regf;
      ins.mnem = aluName(regf);
      if (isReg()) {
        ins.op = Op.AluRI;
        ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
      } else ins.op = Op.AluMI;
      setImm(b === 0x81 ? immSz(sz === 8 ? 4 : sz) : imm8(), sz);
      break;
    }
    case 0x84:
    case 0x85:
    case 0x86:
    case 0x87: {
      modrm();
      const sz = (b & 1) === 0 ? 1 : osz;
      ins.sz = sz;
      const rg = sz === 1 ? r8(reg()) : reg();
      const xchg = b >= 0x86;
      ins.mnem = xchg ? 'xchg' : 'test';
      ins.alu = Alu.Test;
      if (isReg()) {
        ins.op = xchg ? Op.XchgRR : Op.AluRR;
        ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
        ins.rm = rg;
      } else {
        ins.op = xchg ? Op.XchgRM : Op.AluMR;
        ins.r = rg;
      }
      break;
    }
    case 0x88:
    case 0x89:
    case 0x8a:
    case 0x8b: {
      modrm();
      const sz = (b & 1) === 0 ? 1 : osz;
      ins.sz = sz;
      ins.dsz = sz;
      ins.mnem = 'mov';
      const rg = sz === 1 ? r8(reg()) : reg();
      if (isReg()) {
        const rmr = sz === 1 ? r8(ins.rm) : ins.rm;
        const dst = b < 0x8a ? rmr : rg,
          src = b < 0x8a ? rg : rmr;
        ins.op = sz === 8 ? Op.MovRR64 : sz === 4 ? Op.MovRR32 : Op.MovX;
        ins.r = dst;
        ins.rm = src;
      } else {
        ins.r = rg;
        ins.op = b < 0x8a ? Op.Store : Op.Load;
      }
      break;
    }
    case 0x8d:
      modrm();
      if (isReg()) bad();
      ins.op = Op.Lea;
      ins.r = reg();
      ins.dsz = osz;
      ins.sz = osz;
      ins.mnem = 'lea';
      break;
    case 0x8f:
      modrm();
      if (regf !== 0 || opsz16) bad();
      ins.sz = 8;
      ins.mnem = 'pop';
      if (isReg()) {
        ins.op = Op.PopR;
        ins.r = ins.rm;
      } else ins.op = Op.PopM;
      break;
    case 0x90:
    case 0x91:
    case 0x92:
    case 0x93:
    case 0x94:
    case 0x95:
    case 0x96:
    case 0x97:
      if (b === 0x90 && rexB === 0) {
        ins.op = Op.Nop;
        ins.mnem = rep === 0xf3 ? 'pause' : opsz16 ? 'xchg' : 'nop';
        break;
      }
      // (41 90 is xchg r8d, eax)
      ins.op = Op.XchgRR;
      ins.sz = osz;
      ins.r = (b & 7) | rexB;
      ins.rm = 0;
      ins.mnem = 'xchg';
      break;
    case 0x98:
      ins.op = Op.Cdqe;
      ins.sz = osz;
      ins.mnem = osz === 8 ? 'cdqe' : osz === 4 ? 'cwde' : 'cbw';
      break;
    case 0x99:
      ins.op = Op.Cqo;
      ins.sz = osz;
      ins.mnem = osz === 8 ? 'cqo' : osz === 4 ? 'cdq' : 'cwd';
      break;
    case 0xa8:
    case 0xa9: {
      const sz = b === 0xa8 ? 1 : osz;
      ins.op = Op.AluRI;
      ins.alu = Alu.Test;
      ins.sz = sz;
      ins.r = 0;
      ins.mnem = 'test';
      setImm(immSz(sz === 8 ? 4 : sz), sz);
      break;
    }
    case 0xb0:
    case 0xb1:
    case 0xb2:
    case 0xb3:
    case 0xb4:
    case 0xb5:
    case 0xb6:
    case 0xb7:
      ins.op = Op.MovRIN;
      ins.sz = 1;
      ins.r = r8((b & 7) | rexB);
      ins.ilo = fetch();
      ins.mnem = 'mov';
      break;
    case 0xb8:
    case 0xb9:
    case 0xba:
    case 0xbb:
    case 0xbc:
    case 0xbd:
    case 0xbe:
    case 0xbf:
      ins.r = (b & 7) | rexB;
      ins.sz = osz;
      ins.mnem = 'mov';
      if (osz === 8) {
        ins.op = Op.MovRI;
        ins.ilo = disp32();
        ins.ihi = disp32();
        ins.mnem = 'movabs';
      } else if (osz === 4) {
        ins.op = Op.MovRI;
        ins.ilo = disp32();
        ins.ihi = 0;
      } else {
        ins.op = Op.MovRIN;
        ins.ilo = imm16() & 0xffff;
      }
      break;
    case 0xc0:
    case 0xc1:
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3: {
      modrm();
      const sz = (b & 1) === 0 ? 1 : osz;
      ins.sz = sz;
      ins.alu = regf === 6 ? 4 : regf;
      ins.mnem = SHIFT_NAMES[regf === 6 ? 4 : regf];
      if (isReg()) {
        ins.op = Op.ShR;
        ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
      } else ins.op = Op.ShM;
      if (b >= 0xd2) ins.ext = 1;
      else ins.ilo = b >= 0xd0 ? 1 : fetch();
      break;
    }
    case 0xc2:
      ins.op = Op.Ret;
      ins.ilo = imm16() & 0xffff;
      ins.mnem = 'ret';
      break;
    case 0xc3:
      ins.op = Op.Ret;
      ins.ilo = 0;
      ins.mnem = 'ret';
      break;
    case 0xc6:
    case 0xc7: {
      modrm();
      if (regf !== 0) bad();
      const sz = b === 0xc6 ? 1 : osz;
      ins.sz = sz;
      ins.mnem = 'mov';
      setImm(immSz(sz === 8 ? 4 : sz), sz);
      if (isReg()) {
        if (sz >= 4) {
          ins.op = Op.MovRI;
          ins.r = ins.rm;
        } else {
          ins.op = Op.MovRIN;
          ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
          ins.ilo &= sz === 1 ? 0xff : 0xffff;
        }
      } else ins.op = Op.StoreI;
      break;
    }
    case 0xc9:
      ins.op = Op.Leave;
      ins.mnem = 'leave';
      break;
    case 0xcc:
      ins.op = Op.Int3;
      ins.cached = false;
      ins.mnem = 'int3';
      break;
    case 0xe8: {
      const d = disp32();
      ins.op = Op.Call;
      ins.tgt = pos() + d;
      ins.mnem = 'call';
      break;
    }
    case 0xe9: {
      const d = disp32();
      ins.op = Op.Jmp;
      ins.tgt = pos() + d;
      ins.mnem = 'jmp';
      break;
    }
    case 0xeb: {
      const d = imm8();
      ins.op = Op.Jmp;
      ins.tgt = pos() + d;
      ins.mnem = 'jmp';
      break;
    }
    case 0xa4:
    case 0xa5:
    case 0xaa:
    case 0xab: {
      // movs / stos; a rep (f3) prefix repeats rcx times (f2 is the same for these two)
      const sz = (b & 1) === 0 ? 1 : osz;
      ins.op = Op.StrOp;
      ins.sz = sz;
      ins.alu = b >= 0xaa ? 1 : 0;
      ins.ext = rep !== 0 ? 1 : 0;
      ins.mnem = b >= 0xaa ? 'stos' : 'movs';
      break;
    }
    case 0xfc:
    case 0xfd:
      ins.op = Op.SetDf;
      ins.alu = b - 0xfc;
      ins.mnem = b === 0xfc ? 'cld' : 'std';
      break;
    case 0xf4:
      ins.op = Op.Hlt;
      ins.mnem = 'hlt';
      break;
    case 0xf6:
    case 0xf7: {
      modrm();
      const sz = b === 0xf6 ? 1 : osz;
      ins.sz = sz;
      const mem = !isReg();
      if (!mem) ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
      if (regf === 0 || regf === 1) {
        ins.alu = Alu.Test;
        ins.mnem = 'test';
        ins.op = mem ? Op.AluMI : Op.AluRI;
        setImm(immSz(sz === 8 ? 4 : sz), sz);
      } else if (regf === 2 || regf === 3) {
        ins.alu = regf;
        ins.mnem = regf === 2 ? 'not' : 'neg';
        ins.op = mem ? Op.UnM : Op.UnR;
      } else {
        ins.alu = regf;
        ins.mnem = ['mul', 'imul', 'div', 'idiv'][regf - 4];
        ins.op = mem ? Op.MulDivM : Op.MulDivR;
      }
      break;
    }
    case 0xfe:
    case 0xff: {
      modrm();
      const sz = b === 0xfe ? 1 : osz;
      const mem = !isReg();
      if (regf <= 1) {
        ins.sz = sz;
        ins.alu = regf;
        ins.mnem = regf === 0 ? 'inc' : 'dec';
        if (!mem) ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
        ins.op = mem ? Op.UnM : Op.UnR;
      } else if (b === 0xff && (regf === 2 || regf === 4)) {
        ins.sz = 8;
        ins.mnem = regf === 2 ? 'call' : 'jmp';
        if (!mem) ins.r = ins.rm;
        ins.op = regf === 2 ? (mem ? Op.CallM : Op.CallR) : mem ? Op.JmpM : Op.JmpR;
      } else if (b === 0xff && regf === 6) {
        if (opsz16) bad();
        ins.sz = 8;
        ins.mnem = 'push';
        if (mem) ins.op = Op.PushM;
        else {
          ins.op = Op.PushR;
          ins.r = ins.rm;
        }
      } else bad();
      break;
    }
    default:
      bad();
  }
  finish();

  function twoByte(): void {
    const b2 = fetch();
    if (b2 === 0x0b) {
      ins.mnem = 'ud2';
      throw new BadOpcode('ud2');
    }
    if (b2 === 0x1f) {
      modrm();
      if (regf !== 0) bad();
      ins.op = Op.Nop;
      ins.sz = osz;
      ins.mnem = 'nop';
      finish();
      return;
    }
    if (b2 === 0xae) {
      // lfence / mfence / sfence: every emulated access is already in program order on its CPU, and the
      // Atomics the locked instructions use are sequentially consistent
      const m = fetch();
      if (m !== 0xe8 && m !== 0xf0 && m !== 0xf8) bad();
      ins.op = Op.Nop;
      ins.mnem = m === 0xe8 ? 'lfence' : m === 0xf0 ? 'mfence' : 'sfence';
      finish();
      return;
    }
    if (b2 === 0xa3 || b2 === 0xab || b2 === 0xb3 || b2 === 0xbb || b2 === 0xba) {
      modrm();
      ins.sz = osz;
      if (b2 === 0xba) {
        if (regf < 4) bad();
        ins.alu = regf - 4;
        ins.ext = 1;
        ins.ilo = fetch();
      } else {
        ins.alu = (b2 >> 3) & 3;
        ins.rm = isReg() ? ins.rm : 0;
      }
      ins.mnem = BT_NAMES[ins.alu];
      if (isReg()) {
        const t = ins.rm;
        ins.op = Op.BtR;
        // for the register form keep the tested register in r and the offset register in rm
        if (b2 === 0xba) ins.r = t;
        else {
          ins.r = t;
          ins.rm = reg();
        }
      } else {
        ins.op = Op.BtM;
        ins.r = reg();
      }
      finish();
      return;
    }
    if (b2 === 0xb0 || b2 === 0xb1 || b2 === 0xc0 || b2 === 0xc1) {
      modrm();
      const sz = (b2 & 1) === 0 ? 1 : osz;
      ins.sz = sz;
      const xadd = b2 >= 0xc0;
      ins.mnem = xadd ? 'xadd' : 'cmpxchg';
      const rg = sz === 1 ? r8(reg()) : reg();
      if (isReg()) {
        ins.op = xadd ? Op.XaddR : Op.CmpxchgR;
        ins.r = sz === 1 ? r8(ins.rm) : ins.rm;
        ins.rm = rg;
      } else {
        ins.op = xadd ? Op.XaddM : Op.CmpxchgM;
        ins.r = rg;
      }
      finish();
      return;
    }
    if (b2 === 0xbc || b2 === 0xbd || (b2 === 0xb8 && rep === 0xf3)) {
      modrm();
      ins.sz = osz;
      ins.r = reg();
      ins.alu = b2 === 0xb8 ? 4 : b2 - 0xbc + (rep === 0xf3 ? 2 : 0);
      ins.mnem = SCAN_NAMES[ins.alu];
      ins.op = isReg() ? Op.BitScanR : Op.BitScanM;
      finish();
      return;
    }
    if (b2 >= 0xc8 && b2 <= 0xcf) {
      ins.op = Op.Bswap;
      ins.sz = osz;
      if (osz === 2) bad(); // undefined in the SDM
      ins.r = (b2 & 7) | rexB;
      ins.mnem = 'bswap';
      finish();
      return;
    }
    if (b2 === 0xa4 || b2 === 0xa5 || b2 === 0xac || b2 === 0xad) {
      modrm();
      ins.sz = osz;
      ins.alu = b2 >= 0xac ? 1 : 0;
      ins.mnem = b2 >= 0xac ? 'shrd' : 'shld';
      if ((b2 & 1) !== 0) ins.ext = 1;
      if (isReg()) {
        ins.op = Op.ShdR;
        ins.r = ins.rm;
        ins.rm = reg();
      } else {
        ins.op = Op.ShdM;
        ins.r = reg();
      }
      if ((b2 & 1) === 0) ins.ilo = fetch();
      finish();
      return;
    }
    if (b2 === 0x1e && rep === 0xf3) {
      const m = fetch();
      if (m !== 0xfa && m !== 0xfb) bad();
      ins.op = Op.Nop;
      ins.mnem = m === 0xfa ? 'endbr64' : 'endbr32';
      finish();
      return;
    }
    if (b2 >= 0x80 && b2 <= 0x8f) {
      const d = disp32();
      ins.op = Op.Jcc;
      ins.alu = b2 & 15;
      ins.tgt = pos() + d;
      ins.mnem = 'j' + CC_NAMES[b2 & 15];
      finish();
      return;
    }
    if (b2 >= 0x40 && b2 <= 0x4f) {
      modrm();
      ins.alu = b2 & 15;
      ins.r = reg();
      ins.sz = osz;
      ins.mnem = 'cmov' + CC_NAMES[b2 & 15];
      ins.op = isReg() ? Op.CmovR : Op.CmovM;
      finish();
      return;
    }
    if (b2 >= 0x90 && b2 <= 0x9f) {
      modrm();
      ins.alu = b2 & 15;
      ins.sz = 1;
      ins.mnem = 'set' + CC_NAMES[b2 & 15];
      if (isReg()) {
        ins.op = Op.SetccR;
        ins.r = r8(ins.rm);
      } else ins.op = Op.SetccM;
      finish();
      return;
    }
    if (b2 === 0xaf) {
      modrm();
      ins.r = reg();
      ins.sz = osz;
      ins.ext = 0;
      ins.mnem = 'imul';
      ins.op = isReg() ? Op.ImulR : Op.ImulM;
      finish();
      return;
    }
    if (b2 === 0xb6 || b2 === 0xb7 || b2 === 0xbe || b2 === 0xbf) {
      modrm();
      const ssz = (b2 & 1) === 0 ? 1 : 2;
      ins.sz = ssz;
      ins.dsz = osz;
      ins.r = reg();
      ins.ext = b2 >= 0xbe ? 1 : 0;
      ins.mnem = b2 >= 0xbe ? 'movsx' : 'movzx';
      if (isReg()) {
        ins.op = Op.MovX;
        ins.rm = ssz === 1 ? r8(ins.rm) : ins.rm;
      } else ins.op = Op.Load;
      finish();
      return;
    }
    bad();
  }
}
