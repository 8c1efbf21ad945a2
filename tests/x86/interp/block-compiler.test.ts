/**
 * Block compiler (src/x86/block-compiler.ts) vs the per-instruction path: random instruction sequences built
 * from a table of encodings run on two identical machines, one with compilation off (jitHot = 0) and one that
 * compiles every block on its first visit (jitHot = 1), with several budgets; registers, getRflags(), memory,
 * retired, rip, exit and fault must be identical.
 */
import { EntryKind, Exit } from '../../../src/x86/cpu-types';
import { CODE, DATA, Machine, NOX, RO, RSP0, UNMAPPED, machine, operands, prng } from './helpers';

type Rnd = () => number;

function rexb(w: number, r: number, x: number, b: number, force = false): number[] {
  const v = 0x40 | (w << 3) | ((r >> 3) << 2) | ((x >> 3) << 1) | (b >> 3);
  return v !== 0x40 || force ? [v] : [];
}
function modrm(mod: number, reg: number, rm: number): number {
  return (mod << 6) | ((reg & 7) << 3) | (rm & 7);
}
const imm32 = (v: number): number[] => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];

/** pointer-ish registers used as bases; every memory operand is [base + index*scale + disp8] */
const BASES = [3, 5, 6, 7, 12, 13, 4, 14];

function pick<T>(r: Rnd, a: T[]): T {
  return a[r() % a.length];
}

/** One random instruction's bytes. */
function randomInsn(r: Rnd): number[] {
  const d = r() % 16,
    s = r() % 16;
  const w = r() % 2;
  const mem = (reg: number, pre: number[], opc: number[], wbit: number, forceRex = false): number[] => {
    const b = pick(r, BASES);
    const idx = r() % 3 === 0 ? pick(r, [1, 2, 8]) : 4; // 4 = no index
    const sc = r() % 4;
    const disp = (r() % 5) * 8 - 16 + (r() % 8 === 0 ? r() % 8 : 0);
    return [
      ...pre,
      ...rexb(wbit, reg, idx === 4 ? 0 : idx, b, forceRex),
      ...opc,
      modrm(1, reg, 4),
      (sc << 6) | ((idx & 7) << 3) | (b & 7),
      disp & 255,
    ];
  };
  const alu = pick(r, [0, 1, 4, 5, 6, 7, 0, 5, 7, 2]); // mostly compiled ops, some adc
  const cc = r() % 16;
  switch (r() % 44) {
    case 34:
    case 36:
    case 37:
    case 38:
    case 39: // cmp/sub/test/and with a small immediate (often equal to the register), then jcc over a push
      return [
        ...rexb(w, 0, 0, d),
        0x83,
        modrm(3, pick(r, [7, 7, 5, 4, 0]), d),
        pick(r, [0, 1, 2, 0xff, 0x80]),
        0x70 + cc,
        0x01,
        0x50 + (s & 7),
      ];
    case 35:
    case 40:
    case 41:
    case 42:
    case 43: // cmp r, r then jcc / setcc
      if (r() % 3 === 0) return [...rexb(w, d, 0, d), 0x39, modrm(3, d, d), 0x70 + cc, 0x01, 0x50 + (s & 7)];
      return [
        ...rexb(w, s, 0, d),
        pick(r, [0x39, 0x85, 0x29]),
        modrm(3, s, d),
        ...(r() % 2 ? [0x70 + cc, 0x01, 0x50 + (s & 7)] : [0x0f, 0x90 + cc, modrm(3, 0, d & 7)]),
      ];
    case 0:
      return [...rexb(w, s, 0, d), 0x89, modrm(3, s, d)];
    case 1:
      return [...rexb(1, 0, 0, d), 0xc7, modrm(3, 0, d), ...imm32(r())];
    case 2:
      return [...rexb(0, 0, 0, d), 0xb8 + (d & 7), ...imm32(r())];
    case 3:
      return [...rexb(1, 0, 0, d), 0xb8 + (d & 7), ...imm32(r()), ...imm32(r())];
    case 4:
      return r() % 2 ? [...rexb(w, d, 0, s), 0x0f, 0xb6, modrm(3, d, s)] : [0x0f, pick(r, [0xb6, 0xbe]), modrm(3, d & 7, s & 7)];
    case 5:
      return r() % 2 ? [...rexb(1, d, 0, s, true), 0x63, modrm(3, d, s)] : [...rexb(1, d, 0, s, true), 0x0f, 0xbf, modrm(3, d, s)];
    case 6:
      return mem(d, [], [0x8b], w);
    case 7:
      return mem(d, [], [0x0f, pick(r, [0xb6, 0xb7, 0xbe, 0xbf])], w);
    case 8:
      return mem(d, [], [0x63], 1);
    case 9:
      return mem(s, [], [0x89], w);
    case 10:
      return r() % 2 ? mem(s, [0x66], [0x89], 0) : mem(s, [], [0x88], 0, r() % 2 === 0);
    case 11:
      return [...mem(0, [], [0xc7], w), ...imm32(r())];
    case 12:
      return [...mem(0, [], [0xc6], 0), r() & 255];
    case 13:
      return mem(d, [], [0x8d], w);
    case 14:
    case 15:
      return [...rexb(w, s, 0, d), alu === 8 ? 0x85 : alu * 8 + 1, modrm(3, s, d)];
    case 16:
      return [...rexb(w, 0, 0, d), 0x83, modrm(3, alu, d), r() & 255];
    case 17:
      return [...rexb(w, 0, 0, d), 0x81, modrm(3, alu, d), ...imm32(r())];
    case 18:
      return [...rexb(0, s, 0, d), alu * 8, modrm(3, s, d)]; // 8-bit ALU: not compiled
    case 19:
      return mem(d, [], [alu * 8 + 3], w);
    case 20:
      return mem(s, [], [alu * 8 + 1], w);
    case 21:
      return [...mem(alu, [], [0x83], w), r() & 255];
    case 22: {
      const k = r() % 4;
      return [...rexb(w, 0, 0, d), k < 2 ? 0xff : 0xf7, modrm(3, k, d)];
    }
    case 23:
      return [...rexb(w, 0, 0, d), 0xc1, modrm(3, pick(r, [4, 5, 7]), d), r() % 70];
    case 24:
      return [...rexb(w, d, 0, s), 0x0f, 0xaf, modrm(3, d, s)];
    case 25:
      return r() % 2 ? [...rexb(w, d, 0, s), 0x6b, modrm(3, d, s), r() & 255] : [...rexb(w, d, 0, s), 0x69, modrm(3, d, s), ...imm32(r())];
    case 26:
      return [...rexb(0, 0, 0, d), 0x50 + (d & 7)];
    case 27:
      return [...rexb(0, 0, 0, d === 4 ? 0 : d), 0x58 + ((d === 4 ? 0 : d) & 7)];
    case 28:
      return [0x6a, r() & 255];
    case 29:
      return pick(r, [[0x48, 0x98], [0x48, 0x99], [0x99], [0x98]]);
    case 30:
      return [0x70 + cc, 0x01, 0x50 + (s & 7)]; // jcc over a push
    case 31:
      return [0xe8, 0x02, 0, 0, 0, 0xeb, 0x01, 0xc3]; // call; jmp +1; ret
    case 32:
      return [0x0f, 0x90 + cc, modrm(3, 0, d & 7)]; // setcc: not compiled
    default:
      return [...rexb(w, 0, 0, d), 0xd1, modrm(3, 4, d)]; // shl r, 1 (not compiled: count form d1)
  }
}

interface Snap {
  exit: Exit;
  rip: number;
  retired: number;
  regs: string;
  rflags: number;
  fault: string;
  mem: Uint8Array;
}

function snap(m: Machine, exit: Exit): Snap {
  const f = m.cpu.fault;
  return {
    exit,
    rip: m.cpu.rip,
    retired: m.cpu.retired,
    regs: Array.from(m.cpu.regs).join(','),
    rflags: m.cpu.getRflags(),
    fault: f === null ? '' : `${f.vector} ${f.rip} ${f.addr} ${f.message}`,
    mem: m.mem.slice(0, 0x20000),
  };
}

function setupMachine(code: number[], seed: number, jitHot: number): Machine {
  const m = machine(code);
  m.cpu.jitHot = jitHot;
  const r = prng(seed * 7919 + 1);
  const ops = operands(40, seed);
  // half the values come from a small pool so that compares often see equal operands and zero low halves
  const small = [0n, 1n, 2n, 0xffffffffffffffffn, 0xffffffffn, 0x100000000n, 0x80000000n, 0xffffffff80000000n];
  for (let i = 0; i < 16; i++) m.cpu.setReg(i, r() % 2 ? small[r() % small.length] : ops[r() % ops.length]);
  // most bases point somewhere useful, some at read-only, non-writable or unmapped pages
  m.cpu.setRegNum(4, RSP0);
  m.cpu.setRegNum(3, DATA + 0x100);
  m.cpu.setRegNum(5, DATA + 0x200 + (seed % 3 === 0 ? 3 : 0));
  m.cpu.setRegNum(6, pick(r, [DATA + 0x400, RO + 0x40, NOX + 0x20, UNMAPPED + 8, DATA + 0xff8, DATA + 0x1ffc]));
  m.cpu.setRegNum(7, DATA + 0x800);
  m.cpu.setRegNum(12, DATA + 0x40);
  m.cpu.setRegNum(13, pick(r, [RO + 0x10, DATA + 0x300, 0x10]));
  m.cpu.setRegNum(14, DATA + 0x600);
  m.cpu.setRflags(r() & 0x8d5);
  for (let a = DATA; a < DATA + 0x2000; a++) m.mem[a] = r() & 255;
  return m;
}

function expectSame(a: Snap, b: Snap, what: string): void {
  const ctx = (s: Snap): object => ({ exit: s.exit, rip: s.rip, retired: s.retired, regs: s.regs, rflags: s.rflags, fault: s.fault });
  expect({ what, ...ctx(b) }).toEqual({ what, ...ctx(a) });
  if (Buffer.compare(a.mem, b.mem) !== 0) throw new Error(`${what}: memory differs`);
}

describe('block compiler vs per-instruction interpreter', () => {
  test('random straight-line sequences, several budgets', () => {
    let compiledRuns = 0;
    const seeds = Number(process.env.BLOCK_SEEDS ?? 300);
    for (let seed = 1; seed <= seeds; seed++) {
      const r = prng(seed);
      const n = 4 + (r() % 30);
      const code: number[] = [];
      let insns = 0;
      for (let i = 0; i < n; i++) {
        const x = randomInsn(r);
        code.push(...x);
        insns += x[0] === 0xe8 ? 3 : x.length >= 2 && x[x.length - 3] >= 0x70 && x[x.length - 3] < 0x80 && x[x.length - 2] === 1 ? 3 : 1;
      }
      code.push(0xf4);
      const budgets = [1, 2, 3, 5, 8, 13, insns, insns + 3, 1000];
      for (const bud of budgets) {
        const plain = setupMachine(code, seed, 0),
          jit = setupMachine(code, seed, 1);
        for (let round = 0; round < 3; round++) {
          // round 0 compiles what it visits; later rounds (from where it stopped) run compiled blocks
          const ea = plain.cpu.run(bud),
            eb = jit.cpu.run(bud);
          expectSame(snap(plain, ea), snap(jit, eb), `seed ${seed} budget ${bud} round ${round}`);
          if (ea !== Exit.Budget) break;
        }
        // re-run the same code from the start: every block it meets is compiled now
        for (const m of [plain, jit]) {
          m.cpu.fault = null;
          m.cpu.rip = CODE;
        }
        const ea = plain.cpu.run(bud),
          eb = jit.cpu.run(bud);
        expectSame(snap(plain, ea), snap(jit, eb), `seed ${seed} budget ${bud} rerun`);
        if (
          (jit.cpu as unknown as { pages: unknown[] }).pages.some(
            (p) => Array.isArray(p) && p.some((x) => x !== null && (x as { blk: unknown }).blk !== null),
          )
        )
          compiledRuns++;
      }
    }
    expect(compiledRuns).toBeGreaterThan(1000);
  });

  test('a hot loop gives the same result compiled and interpreted, at every budget split', () => {
    // loop: add rax, rcx; imul rcx, rcx, 3; xor rdx, rax; mov [rdi+8], rdx; dec esi; jne loop; hlt
    const code = [0x48, 0x01, 0xc8, 0x48, 0x6b, 0xc9, 0x03, 0x48, 0x31, 0xc2, 0x48, 0x89, 0x57, 0x08, 0xff, 0xce, 0x75, 0xee, 0xf4];
    for (const bud of [1, 7, 50, 333, 5000]) {
      const ms = [0, 50].map((h) => {
        const m = machine(code);
        m.cpu.jitHot = h;
        m.cpu.setRegNum(6, 1000);
        m.cpu.setRegNum(1, 5);
        let e: Exit;
        do e = m.cpu.run(bud);
        while (e === Exit.Budget);
        return snap(m, e);
      });
      expectSame(ms[0], ms[1], `budget ${bud}`);
      expect(ms[1].exit).toBe(Exit.Halt);
      expect(ms[1].retired).toBe(6 * 1000 + 1);
    }
  });

  test('a Site address is never inside a block; int3 after flushICache stops a compiled block', () => {
    // 0: mov eax, 1 ; 5: add eax, 2 ; 8: add eax, 3 ; 11: jmp 0
    const code = [0xb8, 1, 0, 0, 0, 0x83, 0xc0, 0x02, 0x83, 0xc0, 0x03, 0xeb, 0xf3];
    const m = machine(code);
    m.cpu.jitHot = 2;
    expect(m.cpu.run(400)).toBe(Exit.Budget);
    expect(m.cpu.retired).toBe(400);
    m.kinds.set(CODE + 8, EntryKind.Site);
    m.cpu.flushICache();
    m.cpu.rip = CODE;
    for (let i = 0; i < 5; i++) {
      expect(m.cpu.run(1000)).toBe(Exit.Site);
      expect(m.cpu.rip).toBe(CODE + 8);
      m.cpu.rip = CODE;
    }
    expect(m.cpu.retired).toBe(400 + 5 * 2);
    m.kinds.delete(CODE + 8);
    m.mem[CODE + 5] = 0xcc;
    m.cpu.flushICache();
    m.cpu.rip = CODE;
    expect(m.cpu.run(1000)).toBe(Exit.Int3);
    expect(m.cpu.rip).toBe(CODE + 5);
  });
});
