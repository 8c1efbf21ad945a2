/**
 * The instructions gcc emits beyond the hand-written subset (issue 14 item 4), each run on the interpreter
 * alone (jitHot 0) and with every block compiled on first visit (jitHot 1): results and flags against values
 * computed here with BigInt from the SDM's definitions; division faults; lock cmpxchg/xadd; rep movs/stos with
 * rcx = 0, backwards (std) and cut by the budget; bt* with register offsets outside the word; bit scans;
 * rotates (only CF/OF change); shld/shrd; bswap; ah/bh/ch/dh.
 */
import { Exit } from '../../../src/x86/cpu-types';
import { CF, CODE, DATA, hex, machine, Machine, OF, regOf, RegName, Setup, ZF, SF, u64 } from './helpers';

/** Run `code` + hlt on both paths with the same setup; both must halt with identical state. */
function both(code: string, setup: Setup = {}, budget = 100_000): Machine {
  const run = (jitHot: number): Machine => {
    const m = machine(hex(code).concat([0xf4]));
    m.cpu.jitHot = jitHot;
    for (const [k, v] of Object.entries(setup.regs ?? {})) m.cpu.setReg(regOf(k as RegName), BigInt(v));
    if (setup.rflags !== undefined) m.cpu.setRflags(setup.rflags);
    for (const [a, b] of setup.mem ?? []) m.mem.set(b, a);
    // twice: the second pass runs the blocks the first one compiled
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) {
        m.cpu.rip = CODE;
        for (const [k, v] of Object.entries(setup.regs ?? {})) m.cpu.setReg(regOf(k as RegName), BigInt(v));
        if (setup.rflags !== undefined) m.cpu.setRflags(setup.rflags);
        for (const [a, b] of setup.mem ?? []) m.mem.set(b, a);
      }
      const e = m.cpu.run(budget);
      if (e !== Exit.Halt) throw new Error(`jitHot ${jitHot}: exit ${e} ${m.cpu.fault?.vector ?? ''} ${m.cpu.fault?.message ?? ''}`);
    }
    return m;
  };
  const a = run(0),
    b = run(1);
  expect(Array.from(b.cpu.regs)).toEqual(Array.from(a.cpu.regs));
  expect(b.cpu.getRflags()).toBe(a.cpu.getRflags());
  expect(Buffer.compare(a.mem, b.mem)).toBe(0);
  return a;
}

const R = (m: Machine, r: RegName): bigint => m.cpu.getReg(regOf(r));
const MASK64 = (1n << 64n) - 1n;

describe('division', () => {
  const faults = (code: string, regs: Setup['regs']): string => {
    for (const jitHot of [0, 1]) {
      const m = machine(hex(code).concat([0xf4]));
      m.cpu.jitHot = jitHot;
      for (const [k, v] of Object.entries(regs ?? {})) m.cpu.setReg(regOf(k as RegName), BigInt(v));
      expect(m.cpu.run(100)).toBe(Exit.Fault);
      expect(m.cpu.fault?.vector).toBe('#DE');
      expect(m.cpu.rip).toBe(CODE);
      expect(R(m, 'rax')).toBe(u64(BigInt(regs?.rax ?? 0))); // nothing written
    }
    return 'faulted';
  };
  test('#DE on a zero divisor at every size', () => {
    expect(faults('48 f7 f1', { rax: 5, rcx: 0 })).toBe('faulted'); // div rcx
    expect(faults('f7 f9', { rax: 5, rcx: 0 })).toBe('faulted'); // idiv ecx
    expect(faults('66 f7 f1', { rax: 5, rcx: 0 })).toBe('faulted'); // div cx
    expect(faults('f6 f1', { rax: 5, rcx: 0 })).toBe('faulted'); // div cl
  });
  test('#DE when the quotient does not fit: idiv MIN/-1, div with rdx >= divisor', () => {
    expect(faults('48 f7 f9', { rax: -(2n ** 63n), rdx: -1, rcx: -1 })).toBe('faulted'); // idiv rcx
    expect(faults('f7 f9', { rax: 0x80000000, rdx: 0xffffffff, rcx: -1 })).toBe('faulted'); // idiv ecx
    expect(faults('48 f7 f1', { rax: 0, rdx: 7, rcx: 7 })).toBe('faulted'); // div rcx
    expect(faults('f6 f1', { rax: 0x1000, rcx: 2 })).toBe('faulted'); // div cl: 4096/2 > 255
  });
  test('quotient and remainder, signed and unsigned, 128/64 and 16/8', () => {
    const a = 0x123456789abcdefn,
      hi = 0x42n,
      d = 0xfedcba987n;
    let m = both('48 f7 f1', { regs: { rax: a, rdx: hi, rcx: d } });
    const n = (hi << 64n) | a;
    expect(R(m, 'rax')).toBe(n / d);
    expect(R(m, 'rdx')).toBe(n % d);
    m = both('48 99 48 f7 f9', { regs: { rax: -1000003n, rcx: 17 } }); // cqo; idiv rcx
    expect(BigInt.asIntN(64, R(m, 'rax'))).toBe(-1000003n / 17n);
    expect(BigInt.asIntN(64, R(m, 'rdx'))).toBe(-1000003n % 17n);
    m = both('f6 f9', { regs: { rax: 0xff9c, rcx: 7 } }); // idiv cl: ax = -100
    expect(R(m, 'rax') & 0xffffn).toBe(BigInt(((-100 % 7) & 0xff) << 8) | BigInt(Math.trunc(-100 / 7) & 0xff));
  });
});

describe('locked and exchange instructions', () => {
  test('lock cmpxchg: equal stores the source and sets ZF; different loads the accumulator', () => {
    // lock cmpxchg [rdi], rsi
    let m = both('f0 48 0f b1 37', { regs: { rax: 5, rsi: 9 }, mem: [[DATA, [5, 0, 0, 0, 0, 0, 0, 0]]] });
    expect(m.mem[DATA]).toBe(9);
    expect(m.cpu.getRflags() & ZF).toBe(ZF);
    expect(R(m, 'rax')).toBe(5n);
    m = both('f0 48 0f b1 37', { regs: { rax: 6, rsi: 9 }, mem: [[DATA, [5, 0, 0, 0, 0, 0, 0, 0x80]]] });
    expect(m.mem[DATA]).toBe(5);
    expect(m.cpu.getRflags() & ZF).toBe(0);
    expect(R(m, 'rax')).toBe(0x8000000000000005n);
    // 32-bit, different: eax is written, so rax's upper half is cleared
    m = both('f0 0f b1 37', { regs: { rax: 0x1111111100000006n, rsi: 9 }, mem: [[DATA, [5, 0, 0, 0]]] });
    expect(R(m, 'rax')).toBe(5n);
    // 8-bit with a byte register (cmpxchg [rdi], dl), CF as cmp al, [rdi] sets it
    m = both('f0 0f b0 17', { regs: { rax: 1, rdx: 0x77 }, mem: [[DATA, [2]]] });
    expect(m.mem[DATA]).toBe(2);
    expect(m.cpu.getRflags() & CF).toBe(CF);
  });
  test('lock xadd: memory gets the sum, the register the old value, flags of the add', () => {
    const m = both('f0 0f c1 07', { regs: { rax: 0x7fffffff }, mem: [[DATA, [1, 0, 0, 0]]] }); // lock xadd [rdi], eax
    expect(R(m, 'rax')).toBe(1n);
    expect(m.cpu.readU32(DATA)).toBe(0x80000000);
    expect(m.cpu.getRflags() & (OF | SF)).toBe(OF | SF);
  });
  test('lock inc/dec keep CF; lock or/and/sub on memory', () => {
    // stc-like: rflags CF set; lock inc dword [rdi]; lock sub qword [rdi+8], 3; lock or byte [rdi+16], 0x80
    const m = both('f0 ff 07 f0 48 83 6f 08 03 f0 80 4f 10 80', {
      rflags: CF,
      mem: [
        [DATA, [0xff, 0xff, 0xff, 0xff]],
        [DATA + 8, [1, 0, 0, 0, 0, 0, 0, 0]],
      ],
    });
    expect(m.cpu.readU32(DATA)).toBe(0);
    expect(m.cpu.readU64(DATA + 8)).toBe(u64(-2n));
    expect(m.mem[DATA + 16]).toBe(0x80);
    const m2 = both('f0 ff 07', { rflags: CF, mem: [[DATA, [0xff, 0xff, 0xff, 0xff]]] });
    expect(m2.cpu.getRflags() & (CF | ZF)).toBe(CF | ZF);
  });
  test('xchg with memory, and byte registers ah/bh/ch/dh', () => {
    let m = both('48 87 07', { regs: { rax: 0x1122334455667788n }, mem: [[DATA, [1, 2, 3, 4, 5, 6, 7, 8]]] });
    expect(R(m, 'rax')).toBe(0x0807060504030201n);
    expect(m.cpu.readU64(DATA)).toBe(0x1122334455667788n);
    // mov ah, 0x12; add ah, bl; mov ch, ah; xchg dh, ch; movzx esi, dh; mov bh, [rdi]
    m = both('b4 12 02 e3 88 e5 86 ee 0f b6 f6 8a 3f', { regs: { rbx: 0xf0, rdx: 0xaabb }, mem: [[DATA, [0x5a]]] });
    expect(R(m, 'rax') & 0xff00n).toBe(0x0200n); // 0x12 + 0xf0 = 0x102
    expect(R(m, 'rsi')).toBe(0x02n);
    expect(R(m, 'rdx')).toBe(0x02bbn);
    expect(R(m, 'rbx')).toBe(0x5af0n);
  });
});

describe('string instructions', () => {
  test('rep movsb with rcx = 0 does nothing; rep stosq fills; rep movsq copies', () => {
    let m = both('f3 a4', { regs: { rcx: 0, rsi: DATA, rdi: DATA + 0x100 }, mem: [[DATA, [7]]] });
    expect(R(m, 'rdi')).toBe(BigInt(DATA + 0x100));
    expect(m.mem[DATA + 0x100]).toBe(0);
    m = both('f3 48 ab', { regs: { rcx: 3, rdi: DATA, rax: -2 } });
    expect([m.cpu.readU64(DATA), m.cpu.readU64(DATA + 16), m.cpu.readU64(DATA + 24)]).toEqual([u64(-2n), u64(-2n), 0n]);
    expect(R(m, 'rcx')).toBe(0n);
    expect(R(m, 'rdi')).toBe(BigInt(DATA + 24));
    m = both('f3 48 a5', {
      regs: { rcx: 2, rsi: DATA, rdi: DATA + 0x80 },
      mem: [[DATA, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]]],
    });
    expect(Array.from(m.mem.slice(DATA + 0x80, DATA + 0x90))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  });
  test('std makes movs walk down; cld sets it back (DF in rflags)', () => {
    // std; rep movsb; cld
    const m = both('fd f3 a4', { regs: { rcx: 3, rsi: DATA + 2, rdi: DATA + 0x102 }, mem: [[DATA, [1, 2, 3]]] });
    expect(Array.from(m.mem.slice(DATA + 0x100, DATA + 0x103))).toEqual([1, 2, 3]);
    expect(R(m, 'rdi')).toBe(BigInt(DATA + 0xff));
    expect(m.cpu.getRflags() & 0x400).toBe(0x400);
    const c = both('fd fc');
    expect(c.cpu.getRflags() & 0x400).toBe(0);
  });
  test('a rep cut by the budget stays at the instruction with rcx, rsi, rdi advanced, then finishes', () => {
    const m = machine(hex('f3 aa f4'));
    m.cpu.setRegNum(1, 10);
    m.cpu.setRegNum(0, 0x41);
    expect(m.cpu.run(4)).toBe(Exit.Budget);
    expect(m.cpu.rip).toBe(CODE);
    expect(m.cpu.getRegNum(1)).toBe(6);
    expect(m.cpu.getRegNum(7)).toBe(DATA + 4);
    expect(m.cpu.run(100)).toBe(Exit.Halt);
    expect(m.cpu.getRegNum(1)).toBe(0);
    expect(Array.from(m.mem.slice(DATA, DATA + 11))).toEqual([...Array<number>(10).fill(0x41), 0]);
    expect(m.cpu.retired).toBe(11);
  });
  test('a fault in the middle of rep stos leaves the elements done and rcx counting the rest', () => {
    const m = machine(hex('f3 48 ab f4'));
    m.cpu.setRegNum(7, DATA + 0x2000 - 16); // two qwords before the end of the data pages
    m.cpu.setRegNum(1, 5);
    expect(m.cpu.run(100)).toBe(Exit.Fault);
    expect(m.cpu.fault?.vector).toBe('#PF');
    expect(m.cpu.rip).toBe(CODE);
    expect(m.cpu.getRegNum(1)).toBe(3);
  });
});

describe('bit instructions', () => {
  test('bt/bts/btr/btc on registers: CF is the bit, the others change it', () => {
    const v = 0x8000000000000010n;
    for (const [code, want, cf] of [
      ['48 0f a3 c8', v, 1], // bt rax, rcx (rcx = 4)
      ['48 0f ab c8', v, 1], // bts rax, rcx
      ['48 0f b3 c8', v & ~0x10n, 1], // btr rax, rcx
      ['48 0f ba f8 3f', v & ~(1n << 63n), 1], // btc rax, 63
      ['48 0f ba e8 05', v | 0x20n, 0], // bts rax, 5
    ] as Array<[string, bigint, number]>) {
      const m = both(code, { regs: { rax: v, rcx: 4 } });
      expect([code, R(m, 'rax'), m.cpu.getRflags() & CF]).toEqual([code, want, cf]);
    }
  });
  test('bt with a register offset addresses a bit string, negative offsets too', () => {
    // lock bts [rdi], rsi with rsi = 70: bit 6 of the qword at rdi+8
    let m = both('f0 48 0f ab 37', { regs: { rsi: 70 } });
    expect(m.mem[DATA + 8]).toBe(0x40);
    // btr dword [rdi+8], esi with esi = -1: bit 31 of the dword at rdi+4
    m = both('0f b3 77 08', { regs: { rsi: -1 }, mem: [[DATA + 4, [0xff, 0xff, 0xff, 0xff]]] });
    expect(m.cpu.readU32(DATA + 4)).toBe(0x7fffffff);
    expect(m.cpu.getRflags() & CF).toBe(CF);
  });
  test('bsf/bsr/tzcnt/lzcnt/popcnt', () => {
    const x = 0x0000_0100_0000_0800n;
    const m = both('48 0f bc c7 48 0f bd cf f3 48 0f bc d7 f3 48 0f bd f7 f3 48 0f b8 df', { regs: { rdi: x } });
    expect([R(m, 'rax'), R(m, 'rcx'), R(m, 'rdx'), R(m, 'rsi'), R(m, 'rbx')]).toEqual([11n, 40n, 11n, 23n, 2n]);
    // zero source: bsf sets ZF and leaves the destination; tzcnt gives the width and CF
    const z = both('48 0f bc c7', { regs: { rdi: 0, rax: 1234 } });
    expect(R(z, 'rax')).toBe(1234n);
    expect(z.cpu.getRflags() & ZF).toBe(ZF);
    const t = both('f3 0f bc c7', { regs: { rdi: 0 } });
    expect(R(t, 'rax')).toBe(32n);
    expect(t.cpu.getRflags() & CF).toBe(CF);
  });
  test('rol/ror: result, CF/OF, and ZF/SF left as they were', () => {
    const rol = (v: bigint, n: bigint, w: bigint): bigint => ((v << n) | (v >> (w - n))) & ((1n << w) - 1n);
    // test eax, eax (eax = 0: ZF); rol rdx, 3; ror cx, 4; rol bl, 1
    const m = both('85 c0 48 c1 c2 03 66 c1 c9 04 d0 c3', { regs: { rax: 0, rdx: 0xf000000000000001n, rcx: 0x1234, rbx: 0x81 } });
    expect(R(m, 'rdx')).toBe(rol(0xf000000000000001n, 3n, 64n));
    expect(R(m, 'rcx')).toBe(0x4123n);
    expect(R(m, 'rbx')).toBe(0x03n);
    const f = m.cpu.getRflags();
    expect(f & ZF).toBe(ZF); // from the test: rotates do not write ZF
    expect(f & CF).toBe(CF); // rol bl, 1 of 0x81: CF = the bit rotated into bit 0
    expect(f & OF).toBe(OF); // OF = MSB(result) ^ CF = 0 ^ 1
  });
  test('shld/shrd, bswap', () => {
    const a = 0x0123456789abcdefn,
      b = 0xfedcba9876543210n;
    const m = both('48 0f a4 f0 0c 48 0f ad f2 48 0f cb 0f c9', { regs: { rax: a, rsi: b, rdx: a, rcx: 8, rbx: a } });
    expect(R(m, 'rax')).toBe(((a << 12n) | (b >> 52n)) & MASK64);
    expect(R(m, 'rdx')).toBe(((a >> 8n) | (b << 56n)) & MASK64);
    expect(R(m, 'rbx')).toBe(0xefcdab8967452301n);
    expect(R(m, 'rcx')).toBe(0x08000000n);
  });
});
