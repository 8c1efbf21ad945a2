/**
 * Text of a decoded instruction in the Intel syntax `objdump -d -M intel` prints, so the decoder can be
 * cross-checked operand by operand against GNU binutils (tests/x86/interp/decoder-objdump.test.ts,
 * tests/oracle/gcc-objdump.test.ts) and traces can show what a CPU ran.
 *
 * The forms follow objdump's: immediates in hex as the unsigned value of the operand size, `SIZE PTR` on
 * memory operands whose size the registers do not give, `[base+index*scale+disp]`, `ds:ADDR` for an
 * absolute address, `[rip+disp]` for RIP-relative operands, branch targets as absolute addresses. Two
 * things objdump shows that the record does not keep are left to the comparison to normalise: a zero
 * displacement (objdump prints `[rax+0x0]` when one was encoded, `[rax]` when not; here always `[rax]`)
 * and redundant prefixes (`cs`, `data16`).
 */

import { FMT_MEM, FMT_RIPREL, Insn, Op } from './decoder';
import { REG16_NAMES, REG32_NAMES, REG64_NAMES, REG8_NAMES } from './registers';

const HIGH8 = ['ah', 'ch', 'dh', 'bh'];
const PTR: Record<number, string> = { 1: 'BYTE PTR ', 2: 'WORD PTR ', 4: 'DWORD PTR ', 8: 'QWORD PTR ' };

/** Register code r (16..19 = ah..bh) at operand size sz. */
export function regName(r: number, sz: number): string {
  if (sz === 8) return REG64_NAMES[r];
  if (sz === 4) return REG32_NAMES[r];
  if (sz === 2) return REG16_NAMES[r];
  return r >= 16 ? HIGH8[r - 16] : REG8_NAMES[r];
}

function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}

/** The immediate (ilo, ihi) as objdump prints it: unsigned at operand size sz. */
function imm(ins: Insn, sz: number): string {
  if (sz === 8) return hex((BigInt(ins.ihi >>> 0) << 32n) | BigInt(ins.ilo >>> 0));
  if (sz === 4) return hex(ins.ilo >>> 0);
  if (sz === 2) return hex(ins.ilo & 0xffff);
  return hex(ins.ilo & 0xff);
}

/** The memory operand without its size. */
export function memText(ins: Insn): string {
  if ((ins.fmt & FMT_RIPREL) !== 0) {
    const d = ins.disp - ins.end;
    return d === 0 ? '[rip]' : `[rip${d < 0 ? '-' : '+'}${hex(Math.abs(d))}]`;
  }
  if (ins.base < 0 && ins.index < 0) return `ds:${hex(ins.disp >>> 0)}`;
  let s = '[';
  if (ins.base >= 0) s += REG64_NAMES[ins.base];
  if (ins.index >= 0) s += `${ins.base >= 0 ? '+' : ''}${REG64_NAMES[ins.index]}*${ins.scale}`;
  const d = ins.disp | 0;
  if (d !== 0) s += `${d < 0 ? '-' : '+'}${hex(Math.abs(d))}`;
  return s + ']';
}

function mem(ins: Insn, sz: number): string {
  return PTR[sz] + memText(ins);
}

/** objdump's text for the instruction (mnemonic, then operands separated by commas without spaces). */
export function formatInsn(ins: Insn): string {
  const sz = ins.sz;
  const ops = operands(ins, sz);
  const pre = (ins.lock !== 0 ? 'lock ' : '') + (ins.op === Op.StrOp && ins.ext !== 0 ? 'rep ' : '');
  return ops === '' ? pre + ins.mnem : `${pre}${ins.mnem} ${ops}`;
}

function operands(ins: Insn, sz: number): string {
  const r = (x: number, s: number = sz): string => regName(x, s);
  switch (ins.op) {
    case Op.Nop:
      if ((ins.fmt & FMT_MEM) !== 0) return mem(ins, sz === 2 ? 2 : 4);
      return ins.mnem === 'xchg' ? 'ax,ax' : '';
    case Op.MovRR64:
      return `${r(ins.r, 8)},${r(ins.rm, 8)}`;
    case Op.MovRR32:
      return `${r(ins.r, 4)},${r(ins.rm, 4)}`;
    case Op.MovRI:
      return `${r(ins.r, sz === 8 ? 8 : 4)},${imm(ins, sz === 8 ? 8 : 4)}`;
    case Op.MovRIN:
      return `${r(ins.r)},${imm(ins, sz)}`;
    case Op.MovX:
      return `${r(ins.r, ins.dsz)},${r(ins.rm, sz)}`;
    case Op.Load:
      return `${r(ins.r, ins.dsz)},${mem(ins, sz)}`;
    case Op.Store:
      return `${mem(ins, sz)},${r(ins.r)}`;
    case Op.StoreI:
      return `${mem(ins, sz)},${imm(ins, sz)}`;
    case Op.Lea:
      return `${r(ins.r, ins.dsz)},${memText(ins)}`;
    case Op.AluRR:
      return `${r(ins.r)},${r(ins.rm)}`;
    case Op.AluRI:
      return `${r(ins.r)},${imm(ins, sz)}`;
    case Op.AluRM:
      return `${r(ins.r)},${mem(ins, sz)}`;
    case Op.AluMR:
      return `${mem(ins, sz)},${r(ins.r)}`;
    case Op.AluMI:
      return `${mem(ins, sz)},${imm(ins, sz)}`;
    case Op.PushR:
    case Op.PopR:
      return r(ins.r, 8);
    case Op.PushI:
      return imm(ins, 8);
    case Op.PushM:
    case Op.PopM:
    case Op.CallM:
    case Op.JmpM:
      return mem(ins, 8);
    case Op.CallR:
    case Op.JmpR:
      return r(ins.r, 8);
    case Op.Jmp:
    case Op.Jcc:
    case Op.Call:
      return hex(ins.tgt);
    case Op.Ret:
      return ins.ilo !== 0 ? hex(ins.ilo) : '';
    case Op.UnR:
      return r(ins.r);
    case Op.UnM:
      return mem(ins, sz);
    case Op.ShR:
    case Op.ShM: {
      const dst = ins.op === Op.ShR ? r(ins.r) : mem(ins, sz);
      return `${dst},${ins.ext !== 0 ? 'cl' : hex(ins.ilo)}`;
    }
    case Op.ImulR:
    case Op.ImulM: {
      const src = ins.op === Op.ImulR ? r(ins.rm) : mem(ins, sz);
      return ins.ext !== 0 ? `${r(ins.r)},${src},${imm(ins, sz)}` : `${r(ins.r)},${src}`;
    }
    case Op.XchgRR:
      return `${r(ins.r)},${r(ins.rm)}`;
    case Op.XchgRM:
      return `${mem(ins, sz)},${r(ins.r)}`;
    case Op.SetccR:
      return r(ins.r, 1);
    case Op.SetccM:
      return mem(ins, 1);
    case Op.CmovR:
      return `${r(ins.r)},${r(ins.rm)}`;
    case Op.CmovM:
      return `${r(ins.r)},${mem(ins, sz)}`;
    case Op.MulDivR:
      return r(ins.r);
    case Op.MulDivM:
      return mem(ins, sz);
    case Op.BtR:
      return `${r(ins.r)},${ins.ext !== 0 ? hex(ins.ilo) : r(ins.rm)}`;
    case Op.BtM:
      return `${mem(ins, sz)},${ins.ext !== 0 ? hex(ins.ilo) : r(ins.r)}`;
    case Op.CmpxchgR:
    case Op.XaddR:
      return `${r(ins.r)},${r(ins.rm)}`;
    case Op.CmpxchgM:
    case Op.XaddM:
      return `${mem(ins, sz)},${r(ins.r)}`;
    case Op.BitScanR:
      return `${r(ins.r)},${r(ins.rm)}`;
    case Op.BitScanM:
      return `${r(ins.r)},${mem(ins, sz)}`;
    case Op.Bswap:
      return r(ins.r);
    case Op.ShdR:
    case Op.ShdM: {
      const dst = ins.op === Op.ShdR ? r(ins.r) : mem(ins, sz);
      const src = ins.op === Op.ShdR ? r(ins.rm) : r(ins.r);
      return `${dst},${src},${ins.ext !== 0 ? 'cl' : hex(ins.ilo)}`;
    }
    case Op.StrOp: {
      const p = PTR[sz];
      return ins.alu === 0 ? `${p}es:[rdi],${p}ds:[rsi]` : `${p}es:[rdi],${r(0)}`;
    }
    default:
      return '';
  }
}
