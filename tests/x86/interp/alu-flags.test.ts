/**
 * ALU, shift, inc/dec/neg and imul semantics against a BigInt reference model of the Intel SDM, for 8-, 16-,
 * 32- and 64-bit register operands (rax op= rbx / cl), including every condition code via setcc and jcc.
 */
import { CF, OF, PF, SF, STATUS, ZF, exec, operands, reg } from './helpers';

const SIZES = [8, 16, 32, 64] as const;
type Size = (typeof SIZES)[number];

function mask(w: number): bigint {
  return (1n << BigInt(w)) - 1n;
}
function msb(v: bigint, w: number): boolean {
  return ((v >> BigInt(w - 1)) & 1n) === 1n;
}
function parity(v: bigint): number {
  let b = Number(v & 0xffn),
    n = 0;
  while (b) {
    n += b & 1;
    b >>= 1;
  }
  return n % 2 === 0 ? PF : 0;
}
function zsp(r: bigint, w: number): number {
  return (r === 0n ? ZF : 0) | (msb(r, w) ? SF : 0) | parity(r);
}

/** Register write with x86-64 size rules. */
function writeBack(old: bigint, r: bigint, w: Size): bigint {
  if (w === 64) return r;
  if (w === 32) return r & mask(32);
  return (old & ~mask(w) & mask(64)) | r;
}

type AluOp = 'add' | 'or' | 'adc' | 'sbb' | 'and' | 'sub' | 'xor' | 'cmp' | 'test';
const ALU_OPCODE: Record<AluOp, number> = {
  add: 0x01,
  or: 0x09,
  adc: 0x11,
  sbb: 0x19,
  and: 0x21,
  sub: 0x29,
  xor: 0x31,
  cmp: 0x39,
  test: 0x85,
};

function refAlu(op: AluOp, a0: bigint, b0: bigint, cin: number, w: Size): { r: bigint; flags: number; writes: boolean } {
  const m = mask(w),
    a = a0 & m,
    b = b0 & m;
  let r: bigint,
    cf = false,
    of = false;
  switch (op) {
    case 'add':
    case 'adc': {
      const c = op === 'adc' ? BigInt(cin) : 0n;
      const full = a + b + c;
      r = full & m;
      cf = full > m;
      of = msb(a, w) === msb(b, w) && msb(r, w) !== msb(a, w);
      break;
    }
    case 'sub':
    case 'sbb':
    case 'cmp': {
      const c = op === 'sbb' ? BigInt(cin) : 0n;
      r = (a - b - c) & m;
      cf = a < b + c;
      of = msb(a, w) !== msb(b, w) && msb(r, w) !== msb(a, w);
      break;
    }
    case 'and':
    case 'test':
      r = a & b;
      break;
    case 'or':
      r = a | b;
      break;
    default:
      r = a ^ b;
      break;
  }
  return { r, flags: zsp(r, w) | (cf ? CF : 0) | (of ? OF : 0), writes: op !== 'cmp' && op !== 'test' };
}

/** Encode `op rax, rbx` (or al, bl / ax, bx / eax, ebx). */
function encAlu(op: AluOp, w: Size): string {
  const opc = w === 8 ? ALU_OPCODE[op] - 1 : ALU_OPCODE[op];
  const pfx = w === 16 ? '66 ' : w === 64 ? '48 ' : '';
  return `${pfx}${opc.toString(16)} d8`;
}

function condOf(f: number, cc: number): boolean {
  const cf = (f & CF) !== 0,
    zf = (f & ZF) !== 0,
    sf = (f & SF) !== 0,
    of = (f & OF) !== 0,
    pf = (f & PF) !== 0;
  const base = [of, cf, zf, cf || zf, sf, pf, sf !== of, zf || sf !== of][cc >> 1];
  return cc & 1 ? !base : base;
}

const HI = 0xdeadbeefcafe5a5an; // garbage in the upper bits that sized ops must preserve or zero
/** the low w bits of a, with garbage above them */
function withHi(a: bigint, w: number): bigint {
  return (HI & ~mask(w) & mask(64)) | (a & mask(w));
}

describe('two-operand ALU ops vs reference model', () => {
  const ops: AluOp[] = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp', 'test'];
  const vals = operands(22, 7);
  for (const w of SIZES) {
    for (const op of ops) {
      test(`${op} ${w}-bit`, () => {
        let i = 0;
        for (const a of vals) {
          for (const b of vals) {
            if (i++ % 3 !== 0 && a !== b) continue; // a third of the pairs keeps the test fast
            const cin = i & 1;
            const a64 = w === 64 ? a : withHi(a, w);
            const exp = refAlu(op, a, b, cin, w);
            const m = exec(encAlu(op, w), { regs: { rax: a64, rbx: b }, rflags: cin ? CF : 0 });
            const got = m.cpu.getRflags() & STATUS;
            const want = exp.writes ? writeBack(a64, exp.r, w) : a64;
            if (reg(m, 'rax') !== want || got !== exp.flags) {
              throw new Error(
                `${op}${w} a=${a.toString(16)} b=${b.toString(16)} cin=${cin}: rax ${reg(m, 'rax').toString(16)} (want ${want.toString(16)}), flags ${got.toString(16)} (want ${exp.flags.toString(16)})`,
              );
            }
          }
        }
      });
    }
  }
});

describe('condition codes after cmp (setcc, jcc rel8 and rel32)', () => {
  const vals = operands(14, 11);
  for (const w of [8, 32, 64] as Size[]) {
    test(`all 16 conditions, cmp ${w}-bit`, () => {
      for (const a of vals) {
        for (const b of vals) {
          const f = refAlu('cmp', a, b, 0, w).flags;
          for (let cc = 0; cc < 16; cc++) {
            const want = condOf(f, cc) ? 1n : 0n;
            // cmp ; setcc cl
            const set = exec(`${encAlu('cmp', w)} 0f ${(0x90 + cc).toString(16)} c1`, { regs: { rax: a, rbx: b } });
            expect(reg(set, 'rcx') & 0xffn).toBe(want);
            // cmp ; mov cl,1 ; jcc +2 ; mov cl,0
            const j8 = exec(`${encAlu('cmp', w)} b1 01 ${(0x70 + cc).toString(16)} 02 b1 00`, { regs: { rax: a, rbx: b } });
            expect(reg(j8, 'rcx')).toBe(want);
            const j32 = exec(`${encAlu('cmp', w)} b1 01 0f ${(0x80 + cc).toString(16)} 02 00 00 00 b1 00`, { regs: { rax: a, rbx: b } });
            expect(reg(j32, 'rcx')).toBe(want);
          }
        }
      }
    });
  }
  test('conditions after test/and/xor (logic: CF=OF=0)', () => {
    for (const a of operands(12, 5)) {
      const f = refAlu('test', a, a, 0, 64).flags;
      for (let cc = 0; cc < 16; cc++) {
        const m = exec(`48 85 c0 b1 01 ${(0x70 + cc).toString(16)} 02 b1 00`, { regs: { rax: a } });
        expect(reg(m, 'rcx')).toBe(condOf(f, cc) ? 1n : 0n);
      }
    }
  });
  test('conditions after add (carry/overflow from addition)', () => {
    const vals2 = operands(10, 3);
    for (const a of vals2)
      for (const b of vals2) {
        const f = refAlu('add', a, b, 0, 64).flags;
        for (let cc = 0; cc < 16; cc++) {
          const m = exec(`48 01 d8 b1 01 ${(0x70 + cc).toString(16)} 02 b1 00`, { regs: { rax: a, rbx: b } });
          expect(reg(m, 'rcx')).toBe(condOf(f, cc) ? 1n : 0n);
        }
      }
  });
});

describe('inc / dec / neg / not', () => {
  const vals = operands(24, 9);
  // ff /0 inc, ff /1 dec, f7 /3 neg, f7 /2 not  (on rax/eax/ax/al)
  const enc = (op: string, w: Size): string => {
    const pfx = w === 16 ? '66 ' : w === 64 ? '48 ' : '';
    const grp = op === 'inc' || op === 'dec' ? (w === 8 ? 'fe' : 'ff') : w === 8 ? 'f6' : 'f7';
    const modrm = { inc: 'c0', dec: 'c8', not: 'd0', neg: 'd8' }[op];
    return `${pfx}${grp} ${modrm}`;
  };
  for (const w of SIZES) {
    for (const op of ['inc', 'dec', 'neg', 'not']) {
      test(`${op} ${w}-bit`, () => {
        for (const a of vals) {
          for (const cin of [0, CF]) {
            const m0 = mask(w),
              x = a & m0;
            const a64 = w === 64 ? a : withHi(x, w);
            const pre = cin | ZF | OF; // garbage flags to see what is preserved
            let r: bigint, flags: number;
            if (op === 'inc') {
              r = (x + 1n) & m0;
              flags = zsp(r, w) | cin | (x === m0 >> 1n ? OF : 0);
            } else if (op === 'dec') {
              r = (x - 1n) & m0;
              flags = zsp(r, w) | cin | (x === (m0 >> 1n) + 1n ? OF : 0);
            } else if (op === 'neg') {
              r = -x & m0;
              flags = zsp(r, w) | (x !== 0n ? CF : 0) | (x === (m0 >> 1n) + 1n ? OF : 0);
            } else {
              r = ~x & m0;
              flags = pre;
            }
            const m = exec(enc(op, w), { regs: { rax: a64 }, rflags: pre });
            expect([op, w, a, reg(m, 'rax')]).toEqual([op, w, a, writeBack(a64, r, w)]);
            expect([op, w, a, m.cpu.getRflags() & STATUS]).toEqual([op, w, a, flags]);
          }
        }
      });
    }
  }
});

describe('shifts', () => {
  const vals = operands(16, 13);
  const counts = [0, 1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 255];
  const kinds = { shl: 'e0', shr: 'e8', sar: 'f8' } as const;
  for (const w of [8, 16, 32, 64] as Size[]) {
    for (const k of ['shl', 'shr', 'sar'] as const) {
      test(`${k} ${w}-bit by cl`, () => {
        for (const a of vals) {
          for (const c0 of counts) {
            const c = c0 & (w === 64 ? 63 : 31);
            if (w < 32 && c > w) continue; // CF undefined in the SDM
            const pfx = w === 16 ? '66 ' : w === 64 ? '48 ' : '';
            const code = `${pfx}${w === 8 ? 'd2' : 'd3'} ${kinds[k]}`;
            const m0 = mask(w),
              x = a & m0;
            const a64 = w === 64 ? a : withHi(x, w);
            const pre = CF | ZF | PF;
            const m = exec(code, { regs: { rax: a64, rcx: BigInt(c0) }, rflags: pre });
            if (c === 0) {
              expect(reg(m, 'rax')).toBe(writeBack(a64, x, w));
              expect(m.cpu.getRflags() & STATUS).toBe(pre);
              continue;
            }
            let r: bigint, cf: boolean, of: boolean;
            const sxv = msb(x, w) ? x - (1n << BigInt(w)) : x;
            if (k === 'shl') {
              r = (x << BigInt(c)) & m0;
              cf = c <= w ? ((x >> BigInt(w - c)) & 1n) === 1n : false;
              of = msb(r, w) !== cf;
            } else if (k === 'shr') {
              r = x >> BigInt(c);
              cf = ((x >> BigInt(c - 1)) & 1n) === 1n;
              of = msb(x, w);
            } else {
              r = (sxv >> BigInt(c)) & m0;
              cf = ((sxv >> BigInt(c - 1)) & 1n) === 1n;
              of = false;
            }
            const got = m.cpu.getRflags();
            expect([k, w, a, c, reg(m, 'rax')]).toEqual([k, w, a, c, writeBack(a64, r, w)]);
            const chk = c === 1 ? STATUS : STATUS & ~OF; // OF is only defined for 1-bit shifts
            expect([k, w, a, c, got & chk]).toEqual([k, w, a, c, (zsp(r, w) | (cf ? CF : 0) | (of ? OF : 0)) & chk]);
          }
        }
      });
    }
  }
  test('immediate forms: shl rax,1 (d1), shl eax,4 (c1), sar rax,63, shr rdx,33', () => {
    expect(reg(exec('48 d1 e0', { regs: { rax: 0x8000000000000001n } }), 'rax')).toBe(2n);
    expect(exec('48 d1 e0', { regs: { rax: 0x8000000000000001n } }).cpu.getRflags() & (CF | OF)).toBe(CF | OF);
    expect(reg(exec('c1 e0 04', { regs: { rax: 0xffffffff_f0000001n } }), 'rax')).toBe(0x10n);
    expect(reg(exec('48 c1 f8 3f', { regs: { rax: 0x8000000000000000n } }), 'rax')).toBe(0xffffffffffffffffn);
    expect(reg(exec('48 c1 ea 21', { regs: { rdx: 0xf000000000000000n } }), 'rdx')).toBe(0x78000000n);
    // shl edx, 0: no flag change but the 32-bit write still zero-extends
    const m = exec('c1 e2 00', { regs: { rdx: 0x1_0000_0005n }, rflags: CF });
    expect(reg(m, 'rdx')).toBe(5n);
    expect(m.cpu.getRflags() & STATUS).toBe(CF);
  });
});

describe('imul', () => {
  const vals = operands(20, 17);
  const s = (v: bigint, w: number): bigint => BigInt.asIntN(w, v);
  for (const w of [16, 32, 64] as Size[]) {
    test(`imul r, r/m ${w}-bit: truncated product and CF=OF on overflow`, () => {
      const pfx = w === 16 ? '66 ' : w === 64 ? '48 ' : '';
      for (const a of vals)
        for (const b of vals) {
          const full = s(a, w) * s(b, w);
          const r = BigInt.asUintN(w, full);
          const ovf = s(r, w) !== full;
          const a64 = w === 64 ? a : withHi(a, w);
          const m = exec(`${pfx}0f af c3`, { regs: { rax: a64, rbx: b } });
          expect([a, b, reg(m, 'rax')]).toEqual([a, b, writeBack(a64, r, w)]);
          expect([a, b, m.cpu.getRflags() & (CF | OF)]).toEqual([a, b, ovf ? CF | OF : 0]);
        }
    });
  }
  test('three-operand forms 6b / 69 and memory source', () => {
    expect(reg(exec('48 6b c3 0a', { regs: { rbx: 7n } }), 'rax')).toBe(70n);
    expect(reg(exec('6b ca fd', { regs: { rdx: 5n, rcx: 0xffff_ffff_0000_0000n } }), 'rcx')).toBe(0xfffffff1n);
    expect(reg(exec('48 69 c3 00 00 01 00', { regs: { rbx: 0x10000n } }), 'rax')).toBe(0x100000000n);
    const m = exec('48 0f af 07', { regs: { rax: 3n }, mem: [[0x4000, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]] });
    expect(reg(m, 'rax')).toBe(u(-3n));
  });
  test('one-operand mul / div / idiv', () => {
    let m = exec('48 f7 e3', { regs: { rax: 0xffffffffffffffffn, rbx: 2n } });
    expect(reg(m, 'rax')).toBe(0xfffffffffffffffen);
    expect(reg(m, 'rdx')).toBe(1n);
    expect(m.cpu.getRflags() & (CF | OF)).toBe(CF | OF);
    m = exec('48 f7 f3', { regs: { rax: 100n, rdx: 1n, rbx: 7n } });
    const dividend = (1n << 64n) + 100n;
    expect(reg(m, 'rax')).toBe(dividend / 7n);
    expect(reg(m, 'rdx')).toBe(dividend % 7n);
    m = exec('f7 f9', { regs: { rax: u(-7n) & 0xffffffffn, rdx: 0xffffffffn, rcx: 2n } });
    expect(reg(m, 'rax')).toBe(u(-3n) & 0xffffffffn);
    expect(reg(m, 'rdx')).toBe(u(-1n) & 0xffffffffn);
  });
});

function u(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}

describe('cmp/test + jcc fusion (taken on the second and later executions of a pair)', () => {
  const vals = operands(10, 21);
  for (const [name, cmp, rel] of [
    ['cmp r64', '48 39 d8', 'f3'],
    ['cmp r32', '39 d8', 'f4'],
    ['test r64', '48 85 d8', 'f3'],
    ['sub r32', '29 d8', 'f4'],
  ] as const) {
    test(`${name} + every jcc in a loop`, () => {
      for (const a of vals)
        for (const b of vals) {
          const w: Size = name.includes('32') ? 32 : 64;
          const op: AluOp = name.startsWith('cmp') ? 'cmp' : name.startsWith('test') ? 'test' : 'sub';
          for (let cc = 0; cc < 16; cc++) {
            // xor edx,edx ; mov esi,3 ; L: <op> ; jcc T ; jmp N ; T: inc edx ; N: dec esi ; jne L
            // (sub changes rax, so the loop re-runs with a new value: compute the expectation step by step)
            let x = a,
              want = 0n;
            for (let i = 0; i < 3; i++) {
              const r = refAlu(op, x, b, 0, w);
              if (condOf(r.flags, cc)) want++;
              if (r.writes) x = writeBack(x, r.r, w);
            }
            const m = exec(`31 d2 be 03 00 00 00 ${cmp} ${(0x70 + cc).toString(16)} 02 eb 02 ff c2 ff ce 75 ${rel}`, {
              regs: { rax: a, rbx: b },
            });
            expect([name, a, b, cc, reg(m, 'rdx')]).toEqual([name, a, b, cc, want]);
          }
        }
    });
  }

  test('the budget can end between a cmp and its jcc', () => {
    const m = exec('90', {}); // just a machine; replace the code
    const cpu = m.cpu;
    m.mem.set([0x48, 0x39, 0xd8, 0x74, 0xfb], 0x1000); // L: cmp rax,rbx ; je L   (rax == rbx: forever)
    cpu.flushICache();
    cpu.rip = 0x1000;
    let total = 0;
    for (const step of [1, 1, 1, 3, 2, 5, 7, 1, 100, 3]) {
      cpu.run(step);
      total += step;
      expect(cpu.retired).toBe(total + 2); // + the nop and hlt of the first exec
      expect(cpu.rip).toBe(total % 2 === 0 ? 0x1000 : 0x1003);
    }
  });
});
