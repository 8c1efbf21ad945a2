import { LineError } from './errors';
import { SymRef } from './expr';
import { BytesItem, Fixup, fitsSigned, leBytes } from './items';
import { MemOperand, RegOperand } from './operands';

export interface ImmField {
  size: 1 | 2 | 4 | 8;
  /** Already range-checked by the caller; written as two's complement. */
  value: bigint;
  /** `offset sym`: the field becomes an absolute fixup. */
  sym?: SymRef;
}

/** Everything one legacy-encoded instruction is made of; `encode` lays the bytes out in hardware order. */
export interface EncodeSpec {
  line: number;
  /** Operand-size prefix 0x66 (16-bit operation). */
  opsize16?: boolean;
  rexW?: boolean;
  opcode: number[];
  /** ModRM.reg: a register number, or the /digit opcode extension. */
  reg?: number;
  /** ModRM.rm operand; without it there is no ModRM byte. */
  rm?: RegOperand | MemOperand;
  /** Register folded into the low 3 bits of the last opcode byte (push r, mov r, imm, ...). */
  opcodeReg?: number;
  /** Every 8-bit register operand, because they decide whether REX is required or forbidden. */
  byteRegs?: RegOperand[];
  imm?: ImmField;
}

interface AddressBytes {
  modrm: number;
  sib?: number;
  disp: number[];
  rexX: number;
  rexB: number;
  fixup?: { pcrel: boolean; sym: SymRef; addend: bigint };
}

const SCALE_BITS: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

/** ModRM/SIB/displacement for a memory operand, choosing the shortest form as GNU as does. */
function address(reg: number, m: MemOperand, line: number): AddressBytes {
  const regBits = (reg & 7) << 3;
  const symFixup = m.sym ? { sym: m.sym, addend: m.disp } : undefined;
  const disp32 = (): number[] => {
    if (symFixup) return [0, 0, 0, 0];
    if (!fitsSigned(m.disp, 32)) throw new LineError(line, m.col, `displacement ${m.disp} is out of range (signed 32-bit)`);
    return leBytes(m.disp, 4);
  };
  if (m.rip) {
    const a: AddressBytes = { modrm: 0x05 | regBits, disp: disp32(), rexX: 0, rexB: 0 };
    if (symFixup) a.fixup = { pcrel: true, ...symFixup };
    return a;
  }
  const base = m.base;
  const index = m.index;
  const rexX = index !== undefined ? index >> 3 : 0;
  const rexB = base !== undefined ? base >> 3 : 0;
  const indexBits = index !== undefined ? (index & 7) << 3 : 0x20; // 100 = no index
  const scaleBits = SCALE_BITS[m.scale];
  if (base === undefined) {
    // No base: SIB with base=101 and mod=00 means disp32 only (an absolute address in 64-bit mode).
    const a: AddressBytes = { modrm: 0x04 | regBits, sib: (scaleBits << 6) | indexBits | 5, disp: disp32(), rexX, rexB: 0 };
    if (symFixup) a.fixup = { pcrel: false, ...symFixup };
    return a;
  }
  let mod: number;
  let disp: number[];
  if (symFixup) {
    mod = 2;
    disp = disp32();
  } else if (m.disp === 0n && (base & 7) !== 5) {
    // rbp/r13 with mod=00 would mean rip/disp32, so they always carry a displacement.
    mod = 0;
    disp = [];
  } else if (fitsSigned(m.disp, 8)) {
    mod = 1;
    disp = leBytes(m.disp, 1);
  } else {
    mod = 2;
    disp = disp32();
  }
  const needSib = index !== undefined || (base & 7) === 4;
  const a: AddressBytes = needSib
    ? { modrm: (mod << 6) | regBits | 4, sib: (scaleBits << 6) | indexBits | (base & 7), disp, rexX, rexB }
    : { modrm: (mod << 6) | regBits | (base & 7), disp, rexX, rexB };
  if (symFixup) a.fixup = { pcrel: false, ...symFixup };
  return a;
}

export function encode(spec: EncodeSpec): BytesItem {
  const { line } = spec;
  const reg = spec.reg ?? 0;
  let rexB = 0;
  let rexX = 0;
  const tail: number[] = [];
  let dispFixup: { at: number; pcrel: boolean; sym: SymRef; addend: bigint } | undefined;
  const opcode = [...spec.opcode];
  if (spec.opcodeReg !== undefined) {
    opcode[opcode.length - 1] = opcode[opcode.length - 1] + (spec.opcodeReg & 7);
    rexB = spec.opcodeReg >> 3;
  }
  if (spec.rm) {
    if (spec.rm.kind === 'reg') {
      tail.push(0xc0 | ((reg & 7) << 3) | (spec.rm.reg.num & 7));
      rexB = spec.rm.reg.num >> 3;
    } else {
      const a = address(reg, spec.rm, line);
      tail.push(a.modrm);
      if (a.sib !== undefined) tail.push(a.sib);
      if (a.fixup) dispFixup = { at: tail.length, ...a.fixup };
      tail.push(...a.disp);
      rexX = a.rexX;
      rexB = a.rexB;
    }
  }
  const rexBits = (spec.rexW ? 8 : 0) | ((reg >> 3) << 2) | (rexX << 1) | rexB;
  const byteRegs = spec.byteRegs ?? [];
  const needRex = rexBits !== 0 || byteRegs.some((r) => r.reg.needsRex);
  if (needRex) {
    const high = byteRegs.find((r) => r.reg.high8);
    if (high) throw new LineError(line, high.col, `can't encode register '${high.reg.name}' in an instruction requiring REX prefix`);
  }
  const head: number[] = [];
  if (spec.opsize16) head.push(0x66);
  if (needRex) head.push(0x40 | rexBits);
  head.push(...opcode);
  const bytes = [...head, ...tail];
  const fixups: Fixup[] = [];
  const immAt = bytes.length;
  if (spec.imm) {
    const { size, value, sym } = spec.imm;
    if (sym) {
      if (size !== 4 && size !== 8) throw new LineError(line, sym.col, `symbol '${sym.name}' doesn't fit in a ${size}-byte immediate`);
      fixups.push({ at: immAt, size, pcrel: false, sym, addend: value });
      bytes.push(...new Array<number>(size).fill(0));
    } else {
      bytes.push(...leBytes(value, size));
    }
  }
  if (dispFixup) {
    const at = head.length + dispFixup.at;
    // The CPU adds the displacement to the address of the next instruction, not of the field.
    const addend = dispFixup.pcrel ? dispFixup.addend - BigInt(bytes.length - at) : dispFixup.addend;
    fixups.unshift({ at, size: 4, pcrel: dispFixup.pcrel, sym: dispFixup.sym, addend });
  }
  return { t: 'bytes', bytes, fixups, line };
}
