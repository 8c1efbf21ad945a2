import { conditionCode } from './condition-codes';
import { LineError } from './errors';
import { fitsSigned, Item } from './items';
import { encode, EncodeSpec, ImmField } from './modrm';
import { ImmOperand, MemOperand, Operand, operandKindName, RegOperand } from './operands';
import { looksLikeRegister, OpSize } from './register-names';

interface Insn {
  mn: string;
  col: number;
  line: number;
  ops: Operand[];
}

type Rm = RegOperand | MemOperand;

function isRm(op: Operand | undefined): op is Rm {
  return op !== undefined && (op.kind === 'reg' || op.kind === 'mem');
}
function isReg(op: Operand | undefined): op is RegOperand {
  return op !== undefined && op.kind === 'reg';
}
function isMem(op: Operand | undefined): op is MemOperand {
  return op !== undefined && op.kind === 'mem';
}
function isImm(op: Operand | undefined): op is ImmOperand {
  return op !== undefined && op.kind === 'imm';
}
/** al/ax/eax/rax, which have short accumulator encodings. */
function isAccumulator(op: Operand): boolean {
  return op.kind === 'reg' && op.reg.num === 0;
}

function badCombination(insn: Insn): never {
  const col = insn.ops[0]?.col ?? insn.col;
  throw new LineError(insn.line, col, `invalid operand combination for ${insn.mn}: ${insn.ops.map(operandKindName).join(', ')}`);
}

function expectCount(insn: Insn, ...counts: number[]): void {
  if (counts.includes(insn.ops.length)) return;
  const want = counts.join(' or ');
  throw new LineError(insn.line, insn.col, `${insn.mn} takes ${want} operand${want === '1' ? '' : 's'}, got ${insn.ops.length}`);
}

function sizeOf(op: Operand): OpSize | undefined {
  return op.kind === 'reg' ? op.reg.size : op.kind === 'mem' ? op.size : undefined;
}

function sizeMismatch(insn: Insn, op: Operand): never {
  throw new LineError(insn.line, op.col, `operand size mismatch for ${insn.mn}`);
}

function unspecifiedSize(insn: Insn, op: Operand): never {
  throw new LineError(insn.line, op.col, `operand size not specified for ${insn.mn} (use byte/word/dword/qword ptr)`);
}

/** The common size of two register/memory operands. */
function agreeSize(insn: Insn, a: Operand, b: Operand): OpSize {
  const sa = sizeOf(a);
  const sb = sizeOf(b);
  if (sa !== undefined && sb !== undefined && sa !== sb) sizeMismatch(insn, b);
  const s = sa ?? sb;
  if (s === undefined) unspecifiedSize(insn, a);
  return s;
}

function requireSize(insn: Insn, op: Operand): OpSize {
  const s = sizeOf(op);
  if (s === undefined) unspecifiedSize(insn, op);
  return s;
}

/** Operand-size prefix and REX.W for an operation of `size` bytes. */
function sizeBits(size: OpSize): Pick<EncodeSpec, 'opsize16' | 'rexW'> {
  return { opsize16: size === 2, rexW: size === 8 };
}

function byteRegs(ops: Operand[]): RegOperand[] {
  return ops.filter((o): o is RegOperand => o.kind === 'reg' && o.reg.size === 1);
}

/**
 * The immediate as a signed value of the operation's width. Like GNU as, 8/16/32-bit operations accept
 * both signed and unsigned spellings (0xffffffff is -1 for a 32-bit op); 64-bit operations only have
 * a sign-extended imm32, so the value must fit that.
 */
function immValue(insn: Insn, op: ImmOperand, size: OpSize): bigint {
  const bits = size * 8;
  const v = op.value;
  if (v < -(1n << BigInt(bits - 1)) || v >= 1n << BigInt(bits)) {
    throw new LineError(insn.line, op.col, `immediate ${v} is out of range for ${bits === 8 ? 'an' : 'a'} ${bits}-bit operand`);
  }
  const n = BigInt.asIntN(bits, v);
  if (size === 8 && !fitsSigned(n, 32)) {
    throw new LineError(insn.line, op.col, `immediate ${v} is out of range (a 64-bit operation takes a sign-extended 32-bit immediate)`);
  }
  return n;
}

/** The full-width immediate field (imm8/16/32; imm32 for 64-bit operations). */
function fullImm(insn: Insn, op: ImmOperand, size: OpSize): ImmField {
  const fieldSize = size === 8 ? 4 : size;
  if (op.sym) {
    if (fieldSize !== 4) throw new LineError(insn.line, op.col, `a symbol address doesn't fit in a ${size * 8}-bit immediate`);
    return { size: 4, value: op.value, sym: op.sym };
  }
  return { size: fieldSize, value: immValue(insn, op, size) };
}

/**
 * The two ModRM forms `op r/m, r` and `op r, r/m` shared by mov, test and the ALU group: `toRm` is the
 * byte-sized opcode of the first form (the word/dword/qword one follows it), `toReg` of the second.
 * Returns null when the operands are neither form.
 */
function regRmForms(insn: Insn, toRm: number, toReg: number): Item | null {
  const [d, s] = insn.ops as [Operand, Operand];
  const line = insn.line;
  const br = byteRegs(insn.ops);
  if (isRm(d) && isReg(s)) {
    const size = agreeSize(insn, d, s);
    return encode({ line, ...sizeBits(size), opcode: [toRm + (size === 1 ? 0 : 1)], reg: s.reg.num, rm: d, byteRegs: br });
  }
  if (isReg(d) && isMem(s)) {
    const size = agreeSize(insn, d, s);
    return encode({ line, ...sizeBits(size), opcode: [toReg + (size === 1 ? 0 : 1)], reg: d.reg.num, rm: s, byteRegs: br });
  }
  return null;
}

const ALU_EXT: Record<string, number> = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 };

function alu(insn: Insn, ext: number): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  const line = insn.line;
  const br = byteRegs(insn.ops);
  const modrm = regRmForms(insn, ext * 8, ext * 8 + 2);
  if (modrm) return modrm;
  if (isRm(d) && isImm(s)) {
    const size = requireSize(insn, d);
    if (size === 1) {
      const imm: ImmField = { size: 1, value: immValue(insn, s, 1) };
      if (isAccumulator(d)) return encode({ line, opcode: [ext * 8 + 4], imm });
      return encode({ line, opcode: [0x80], reg: ext, rm: d, imm, byteRegs: br });
    }
    const imm = fullImm(insn, s, size);
    if (!s.sym && fitsSigned(imm.value, 8)) {
      return encode({ line, ...sizeBits(size), opcode: [0x83], reg: ext, rm: d, imm: { size: 1, value: imm.value } });
    }
    if (isAccumulator(d)) return encode({ line, ...sizeBits(size), opcode: [ext * 8 + 5], imm });
    return encode({ line, ...sizeBits(size), opcode: [0x81], reg: ext, rm: d, imm });
  }
  return badCombination(insn);
}

function test(insn: Insn): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  const line = insn.line;
  const br = byteRegs(insn.ops);
  // test is symmetric: `test r, r/m` is encoded as `test r/m, r`.
  const modrm = regRmForms(insn, 0x84, 0x84);
  if (modrm) return modrm;
  if (isRm(d) && isImm(s)) {
    const size = requireSize(insn, d);
    const imm = fullImm(insn, s, size);
    if (isAccumulator(d)) return encode({ line, ...sizeBits(size), opcode: [size === 1 ? 0xa8 : 0xa9], imm });
    return encode({ line, ...sizeBits(size), opcode: [size === 1 ? 0xf6 : 0xf7], reg: 0, rm: d, imm, byteRegs: br });
  }
  return badCombination(insn);
}

function mov(insn: Insn): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  const line = insn.line;
  const br = byteRegs(insn.ops);
  const modrm = regRmForms(insn, 0x88, 0x8a);
  if (modrm) return modrm;
  if (isReg(d) && isImm(s)) {
    const size = d.reg.size;
    if (size !== 8) {
      const imm = s.sym ? fullImm(insn, s, size) : { size, value: immValue(insn, s, size) };
      return encode({ line, ...sizeBits(size), opcode: [size === 1 ? 0xb0 : 0xb8], opcodeReg: d.reg.num, imm, byteRegs: br });
    }
    // GNU as (without -O) keeps REX.W c7 /0 for values that sign-extend from 32 bits, movabs otherwise.
    if (s.sym) return encode({ line, rexW: true, opcode: [0xc7], reg: 0, rm: d, imm: { size: 4, value: s.value, sym: s.sym } });
    const v = imm64(insn, s);
    if (fitsSigned(v, 32)) return encode({ line, rexW: true, opcode: [0xc7], reg: 0, rm: d, imm: { size: 4, value: v } });
    return encode({ line, rexW: true, opcode: [0xb8], opcodeReg: d.reg.num, imm: { size: 8, value: v } });
  }
  if (isMem(d) && isImm(s)) {
    const size = requireSize(insn, d);
    return encode({ line, ...sizeBits(size), opcode: [size === 1 ? 0xc6 : 0xc7], reg: 0, rm: d, imm: fullImm(insn, s, size) });
  }
  return badCombination(insn);
}

function imm64(insn: Insn, s: ImmOperand): bigint {
  if (s.value < -(1n << 63n) || s.value >= 1n << 64n)
    throw new LineError(insn.line, s.col, `immediate ${s.value} is out of range for a 64-bit operand`);
  return BigInt.asIntN(64, s.value);
}

function movabs(insn: Insn): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  if (!isReg(d) || !isImm(s)) return badCombination(insn);
  if (d.reg.size !== 8) sizeMismatch(insn, d);
  const imm: ImmField = s.sym ? { size: 8, value: s.value, sym: s.sym } : { size: 8, value: imm64(insn, s) };
  return encode({ line: insn.line, rexW: true, opcode: [0xb8], opcodeReg: d.reg.num, imm });
}

/** Single r/m operand groups: [opcode for 8-bit, opcode otherwise, /digit]. */
const UNARY: Record<string, [number, number, number]> = {
  inc: [0xfe, 0xff, 0],
  dec: [0xfe, 0xff, 1],
  not: [0xf6, 0xf7, 2],
  neg: [0xf6, 0xf7, 3],
  mul: [0xf6, 0xf7, 4],
  div: [0xf6, 0xf7, 6],
  idiv: [0xf6, 0xf7, 7],
};

function unary(insn: Insn, [op8, op, ext]: [number, number, number]): Item {
  expectCount(insn, 1);
  const d = insn.ops[0];
  if (!isRm(d)) return badCombination(insn);
  const size = requireSize(insn, d);
  return encode({ line: insn.line, ...sizeBits(size), opcode: [size === 1 ? op8 : op], reg: ext, rm: d, byteRegs: byteRegs(insn.ops) });
}

const SHIFT_EXT: Record<string, number> = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, sal: 4, shr: 5, sar: 7 };

function shift(insn: Insn, ext: number): Item {
  expectCount(insn, 1, 2);
  const [d, s] = insn.ops as [Operand, Operand | undefined];
  if (!isRm(d)) return badCombination(insn);
  const size = requireSize(insn, d);
  const line = insn.line;
  const base = { line, ...sizeBits(size), reg: ext, rm: d, byteRegs: byteRegs([d]) };
  const wide = size === 1 ? 0 : 1;
  if (s === undefined || (isImm(s) && !s.sym && s.value === 1n)) return encode({ ...base, opcode: [0xd0 + wide] });
  if (isImm(s) && !s.sym) {
    if (s.value < -128n || s.value > 255n) throw new LineError(line, s.col, `shift count ${s.value} is out of range`);
    return encode({ ...base, opcode: [0xc0 + wide], imm: { size: 1, value: s.value } });
  }
  if (isReg(s) && s.reg.size === 1 && s.reg.num === 1 && !s.reg.high8) return encode({ ...base, opcode: [0xd2 + wide] });
  if (isReg(s)) throw new LineError(line, s.col, `shift count register must be cl, not ${s.reg.name}`);
  return badCombination(insn);
}

function imul(insn: Insn): Item {
  expectCount(insn, 1, 2, 3);
  if (insn.ops.length === 1) return unary(insn, [0xf6, 0xf7, 5]);
  const [d, s, i] = insn.ops as [Operand, Operand, Operand | undefined];
  const line = insn.line;
  if (!isReg(d)) return badCombination(insn);
  if (d.reg.size === 1) sizeMismatch(insn, d);
  if (insn.ops.length === 2 && isRm(s)) {
    const size = agreeSize(insn, d, s);
    return encode({ line, ...sizeBits(size), opcode: [0x0f, 0xaf], reg: d.reg.num, rm: s });
  }
  // imul r, imm is imul r, r, imm.
  const src = insn.ops.length === 2 ? d : s;
  const imm = insn.ops.length === 2 ? s : i;
  if (!isRm(src) || !isImm(imm)) return badCombination(insn);
  const size = agreeSize(insn, d, src);
  const field = fullImm(insn, imm, size);
  if (!imm.sym && fitsSigned(field.value, 8)) {
    return encode({ line, ...sizeBits(size), opcode: [0x6b], reg: d.reg.num, rm: src, imm: { size: 1, value: field.value } });
  }
  return encode({ line, ...sizeBits(size), opcode: [0x69], reg: d.reg.num, rm: src, imm: field });
}

function extend(insn: Insn, opcode: number): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  if (!isReg(d) || !isRm(s)) return badCombination(insn);
  const ssize = requireSize(insn, s);
  if (d.reg.size === 1 || ssize > 2 || ssize >= d.reg.size) sizeMismatch(insn, s);
  return encode({
    line: insn.line,
    ...sizeBits(d.reg.size),
    opcode: [0x0f, opcode + (ssize === 2 ? 1 : 0)],
    reg: d.reg.num,
    rm: s,
    byteRegs: byteRegs([s]),
  });
}

function movsxd(insn: Insn): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  if (!isReg(d) || !isRm(s)) return badCombination(insn);
  if (d.reg.size !== 8) sizeMismatch(insn, d);
  if ((sizeOf(s) ?? 4) !== 4) sizeMismatch(insn, s);
  return encode({ line: insn.line, rexW: true, opcode: [0x63], reg: d.reg.num, rm: s });
}

function lea(insn: Insn): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  if (!isReg(d) || !isMem(s)) return badCombination(insn);
  if (d.reg.size === 1) sizeMismatch(insn, d);
  return encode({ line: insn.line, ...sizeBits(d.reg.size), opcode: [0x8d], reg: d.reg.num, rm: s });
}

/** push/pop operate on 64 bits (or 16 with 0x66); 32-bit forms don't exist in long mode. */
function stackSize(insn: Insn, op: Rm): OpSize {
  const s = sizeOf(op) ?? 8;
  if (s !== 8 && s !== 2) sizeMismatch(insn, op);
  return s;
}

function pushPop(insn: Insn, push: boolean): Item {
  expectCount(insn, 1);
  const d = insn.ops[0];
  const line = insn.line;
  if (isReg(d)) {
    return encode({ line, opsize16: stackSize(insn, d) === 2, opcode: [push ? 0x50 : 0x58], opcodeReg: d.reg.num });
  }
  if (isMem(d)) {
    return encode({ line, opsize16: stackSize(insn, d) === 2, opcode: [push ? 0xff : 0x8f], reg: push ? 6 : 0, rm: d });
  }
  if (push && isImm(d)) {
    const imm = fullImm(insn, d, 8);
    if (!d.sym && fitsSigned(imm.value, 8)) return encode({ line, opcode: [0x6a], imm: { size: 1, value: imm.value } });
    return encode({ line, opcode: [0x68], imm });
  }
  return badCombination(insn);
}

function callJmp(insn: Insn, op: 'call' | 'jmp'): Item {
  expectCount(insn, 1);
  const d = insn.ops[0];
  if (d.kind === 'sym') return { t: 'branch', op, cc: 0, target: d.sym, addend: d.addend, line: insn.line };
  if (isRm(d)) {
    if ((sizeOf(d) ?? 8) !== 8) sizeMismatch(insn, d);
    return encode({ line: insn.line, opcode: [0xff], reg: op === 'call' ? 2 : 4, rm: d });
  }
  if (d.kind === 'imm') throw new LineError(insn.line, d.col, `${insn.mn} target must be a label or symbol, not a number`);
  return badCombination(insn);
}

function jcc(insn: Insn, cc: number): Item {
  expectCount(insn, 1);
  const d = insn.ops[0];
  if (d.kind === 'sym') return { t: 'branch', op: 'jcc', cc, target: d.sym, addend: d.addend, line: insn.line };
  if (d.kind === 'imm') throw new LineError(insn.line, d.col, `${insn.mn} target must be a label or symbol, not a number`);
  return badCombination(insn);
}

function setcc(insn: Insn, cc: number): Item {
  expectCount(insn, 1);
  const d = insn.ops[0];
  if (!isRm(d)) return badCombination(insn);
  if ((sizeOf(d) ?? 1) !== 1) sizeMismatch(insn, d);
  return encode({ line: insn.line, opcode: [0x0f, 0x90 + cc], reg: 0, rm: d, byteRegs: byteRegs([d]) });
}

function cmovcc(insn: Insn, cc: number): Item {
  expectCount(insn, 2);
  const [d, s] = insn.ops as [Operand, Operand];
  if (!isReg(d) || !isRm(s)) return badCombination(insn);
  const size = agreeSize(insn, d, s);
  if (size === 1) sizeMismatch(insn, d);
  return encode({ line: insn.line, ...sizeBits(size), opcode: [0x0f, 0x40 + cc], reg: d.reg.num, rm: s });
}

function nop(insn: Insn): Item {
  expectCount(insn, 0, 1);
  if (insn.ops.length === 0) return encode({ line: insn.line, opcode: [0x90] });
  const d = insn.ops[0];
  if (!isRm(d)) return badCombination(insn);
  const size = requireSize(insn, d);
  if (size === 1) sizeMismatch(insn, d);
  return encode({ line: insn.line, ...sizeBits(size), opcode: [0x0f, 0x1f], reg: 0, rm: d });
}

function ret(insn: Insn): Item {
  expectCount(insn, 0, 1);
  if (insn.ops.length === 0) return encode({ line: insn.line, opcode: [0xc3] });
  const d = insn.ops[0];
  if (!isImm(d) || d.sym) return badCombination(insn);
  if (d.value < 0n || d.value > 0xffffn) throw new LineError(insn.line, d.col, `immediate ${d.value} is out of range for ret (0..65535)`);
  return encode({ line: insn.line, opcode: [0xc2], imm: { size: 2, value: d.value } });
}

const NO_OPERANDS: Record<string, number[]> = {
  leave: [0xc9],
  int3: [0xcc],
  ud2: [0x0f, 0x0b],
  hlt: [0xf4],
  cbw: [0x66, 0x98],
  cwde: [0x98],
  cdqe: [0x48, 0x98],
  cwd: [0x66, 0x99],
  cdq: [0x99],
  cqo: [0x48, 0x99],
  pause: [0xf3, 0x90],
  cli: [0xfa],
  sti: [0xfb],
  clc: [0xf8],
  stc: [0xf9],
  cld: [0xfc],
  std: [0xfd],
  lfence: [0x0f, 0xae, 0xe8],
  mfence: [0x0f, 0xae, 0xf0],
  sfence: [0x0f, 0xae, 0xf8],
};

function dispatch(insn: Insn): Item | undefined {
  const mn = insn.mn;
  const fixed = NO_OPERANDS[mn];
  if (fixed) {
    expectCount(insn, 0);
    return { t: 'bytes', bytes: [...fixed], fixups: [], line: insn.line };
  }
  const aluExt = ALU_EXT[mn];
  if (aluExt !== undefined) return alu(insn, aluExt);
  const un = UNARY[mn];
  if (un) return unary(insn, un);
  const sh = SHIFT_EXT[mn];
  if (sh !== undefined) return shift(insn, sh);
  switch (mn) {
    case 'mov':
      return mov(insn);
    case 'movabs':
      return movabs(insn);
    case 'test':
      return test(insn);
    case 'imul':
      return imul(insn);
    case 'movzx':
      return extend(insn, 0xb6);
    case 'movsx':
      return extend(insn, 0xbe);
    case 'movsxd':
      return movsxd(insn);
    case 'lea':
      return lea(insn);
    case 'push':
      return pushPop(insn, true);
    case 'pop':
      return pushPop(insn, false);
    case 'call':
      return callJmp(insn, 'call');
    case 'jmp':
      return callJmp(insn, 'jmp');
    case 'nop':
      return nop(insn);
    case 'ret':
      return ret(insn);
  }
  const cc = (prefix: string): number | undefined => (mn.startsWith(prefix) ? conditionCode(mn.slice(prefix.length)) : undefined);
  const j = cc('j');
  if (j !== undefined) return jcc(insn, j);
  const set = cc('set');
  if (set !== undefined) return setcc(insn, set);
  const cmov = cc('cmov');
  if (cmov !== undefined) return cmovcc(insn, cmov);
  return undefined;
}

const BRANCHES = new Set(['call', 'jmp']);
const OTHER_MNEMONICS = new Set(['mov', 'movabs', 'test', 'imul', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'nop', 'ret']);

/** Whether this assembler knows `mnemonic` (any case), checked before its operands are parsed. */
export function isMnemonic(mnemonic: string): boolean {
  const mn = mnemonic.toLowerCase();
  if (mn in NO_OPERANDS || mn in ALU_EXT || mn in UNARY || mn in SHIFT_EXT || BRANCHES.has(mn) || OTHER_MNEMONICS.has(mn)) return true;
  return ['j', 'set', 'cmov'].some((p) => mn.startsWith(p) && conditionCode(mn.slice(p.length)) !== undefined);
}

/** Encodes one instruction; `mnemonic` as written (any case), `col` its column. */
export function encodeInstruction(mnemonic: string, col: number, ops: Operand[], line: number): Item {
  const mn = mnemonic.toLowerCase();
  const insn: Insn = { mn, col, line, ops };
  const isBranch = BRANCHES.has(mn) || (mn.startsWith('j') && conditionCode(mn.slice(1)) !== undefined);
  if (!isBranch) {
    const bare = ops.find((o) => o.kind === 'sym');
    if (bare && bare.kind === 'sym') {
      const n = bare.sym.name;
      if (looksLikeRegister(n)) throw new LineError(line, bare.col, `unknown register '${n}'`);
      throw new LineError(
        line,
        bare.col,
        `bare symbol '${n}' can't be an operand of ${mn}: write [rip + ${n}] for its memory or offset ${n} for its address`,
      );
    }
  }
  const item = dispatch(insn);
  if (!item) throw new LineError(line, col, `unknown mnemonic '${mnemonic}'`);
  return item;
}
