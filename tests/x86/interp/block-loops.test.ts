/**
 * Looping blocks (block-compiler.ts): a block whose last jcc/jmp goes back to its first instruction runs its
 * iterations inside the compiled function. Each loop here runs on the interpreter alone (jitHot 0) and with
 * every block compiled on its first visit (jitHot 1), split into runs of several budgets; after each run the
 * registers, getRflags(), memory, retired count, rip, exit and fault must be the same — so iterations counted,
 * flags read after the loop (CF kept by dec from before it), faults in a later iteration and budget ends in
 * the middle of a loop all match the interpreter.
 */
import { Exit } from '../../../src/x86/cpu-types';
import { DATA, hex, machine, Machine } from './helpers';

interface Case {
  name: string;
  code: string;
  regs?: Array<[number, number]>;
  rflags?: number;
}

const CASES: Case[] = [
  // dec ecx; jnz -> setb al; setl bl; hlt: the CF dec keeps comes from the flags before the loop
  { name: 'dec/jnz keeps the entry CF', code: 'ff c9 75 fc 0f 92 c0 0f 9c c3 f4', regs: [[1, 1000]], rflags: 0x1 },
  { name: 'dec/jnz, CF clear', code: 'ff c9 75 fc 0f 92 c0 f4', regs: [[1, 77]], rflags: 0x0 },
  // add rax, rdx; dec ecx; jnz; adc rbx, 0 (CF of the add is gone: dec kept the add's CF... of the last add)
  {
    name: 'add then dec, adc after',
    code: '48 01 d0 ff c9 75 f9 48 83 d3 00 f4',
    regs: [
      [1, 300],
      [0, -5],
      [2, 0x7fffffff],
    ],
  },
  // inc rax; mov [rdi+rax*8], rax; sub ecx, 1; jnz: rdi near the end of the data pages, so a later iteration faults
  {
    name: 'store faults in a later iteration',
    code: '48 ff c0 48 89 04 c7 83 e9 01 75 f4 f4',
    regs: [
      [1, 5000],
      [7, DATA + 0x1e00],
      [0, 0],
    ],
  },
  // mov [rdi+rax*8], rax first, then inc rax; sub ecx, 1; jnz: the faulting iteration exits before its first
  // flag write, so the flags it reports are the previous iteration's
  {
    name: 'fault before the first flag write of a later iteration',
    code: '48 89 04 c7 48 ff c0 83 e9 01 75 f4 f4',
    regs: [
      [1, 5000],
      [7, DATA + 0x1e00],
      [0, 0],
    ],
  },
  // mov edx, [rsi]; add rsi, 4; xor eax, edx; cmp rsi, rbp; jb loop; setae cl
  {
    name: 'cmp/jb over an array',
    code: '8b 16 48 83 c6 04 31 d0 48 39 ee 72 f4 0f 93 c1 f4',
    regs: [
      [6, DATA],
      [5, DATA + 0x800],
    ],
  },
  // shl eax, 1; dec ecx; jg loop; seto dl; sets dh
  {
    name: 'dec/jg signed',
    code: 'd1 e0 ff c9 7f fa 0f 90 c2 0f 98 c6 f4',
    regs: [
      [0, 3],
      [1, 40],
    ],
  },
  // inc ecx; jno loop: runs until ecx overflows from 0x7fffff00
  { name: 'inc/jno overflow exit', code: 'ff c1 71 fc 0f 92 c0 f4', regs: [[1, 0x7fffff00]], rflags: 0x1 },
  // add eax, 7; cmp eax, ebx; setl cl; cmovg esi, eax; add edi, ecx; dec r8d; jnz; setb ah; sete bh
  {
    name: 'setcc and cmov consumers in the body',
    code: '83 c0 07 39 d8 0f 9c c1 0f 4f f0 01 cf 41 ff c8 75 ee 0f 92 c4 0f 94 c7 f4',
    regs: [
      [0, -300],
      [3, 200],
      [8, 120],
      [6, 0x12345678],
    ],
    rflags: 0x1,
  },
  // add eax, 1; jmp self: ends only with the budget
  { name: 'jmp back to the head', code: '83 c0 01 eb fb' },
  // lea eax, [rax+1]; jae self: reads the entry flags (no flag write in the body): must not loop inside
  { name: 'body reads the entry flags', code: '8d 40 01 73 fb f4', rflags: 0x0 },
  // sub rcx, 1; ja; imul rax, rcx, 3 in the body; neg; test
  { name: 'neg/imul/test in the body', code: '48 6b c1 03 48 f7 d8 48 85 c0 48 83 e9 01 77 f0 0f 94 c2 f4', regs: [[1, 500]] },
];

function snapshot(m: Machine, e: Exit): object {
  return {
    exit: e,
    rip: m.cpu.rip,
    retired: m.cpu.retired,
    regs: Array.from(m.cpu.regs).join(','),
    rflags: m.cpu.getRflags(),
    fault: m.cpu.fault === null ? '' : `${m.cpu.fault.vector} ${m.cpu.fault.rip} ${m.cpu.fault.message}`,
  };
}

function setup(c: Case, jitHot: number): Machine {
  const m = machine(hex(c.code));
  m.cpu.jitHot = jitHot;
  for (const [r, v] of c.regs ?? []) m.cpu.setRegNum(r, v);
  m.cpu.setRflags(c.rflags ?? 0);
  for (let a = DATA; a < DATA + 0x2000; a++) m.mem[a] = (a * 131) & 0xff;
  return m;
}

describe('looping compiled blocks match the interpreter', () => {
  test.each(CASES)('$name', (c) => {
    for (const budget of [1, 2, 3, 7, 50, 333, 5000, 100_000]) {
      const plain = setup(c, 0),
        jit = setup(c, 1);
      for (let round = 0; round < 40; round++) {
        const ea = plain.cpu.run(budget),
          eb = jit.cpu.run(budget);
        expect({ budget, round, ...snapshot(jit, eb) }).toEqual({ budget, round, ...snapshot(plain, ea) });
        if (ea !== Exit.Budget) break;
      }
      expect(Buffer.compare(plain.mem, jit.mem)).toBe(0);
    }
  });

  test('a dec/jnz loop block runs its iterations inside the compiled function', () => {
    const m = machine(hex('ff c9 75 fc f4'));
    m.cpu.jitHot = 1;
    m.cpu.setRegNum(1, 100_000);
    expect(m.cpu.run(1_000_000)).toBe(Exit.Halt);
    expect(m.cpu.retired).toBe(200_001);
    const blk = (m.cpu as unknown as { pages: Array<Array<{ blk: { loop: boolean } | null } | null> | null> }).pages
      .flatMap((p) => p ?? [])
      .find((x) => x?.blk != null);
    expect(blk?.blk?.loop).toBe(true);
  });
});
