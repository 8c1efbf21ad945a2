/**
 * Decoder cross-check against GNU binutils: a table of instructions is assembled with `as` at test time and
 * disassembled with `objdump -d -M intel`; every instruction's length (and, where objdump prints a plain
 * mnemonic, the mnemonic) must match decodeLength()/decodeAt(). Skipped with a note if the tools are missing.
 */
import { execFileSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { decodeAt, decodeLength } from '../../../src/x86/decoder';

function haveTools(): boolean {
  try {
    execFileSync('as', ['--version'], { stdio: 'ignore' });
    execFileSync('objdump', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'];
const R8 = [
  'al',
  'cl',
  'dl',
  'bl',
  'spl',
  'bpl',
  'sil',
  'dil',
  'r8b',
  'r9b',
  'r10b',
  'r11b',
  'r12b',
  'r13b',
  'r14b',
  'r15b',
  'ah',
  'ch',
  'dh',
  'bh',
];
const MEMS = [
  '[rax]',
  '[rsp]',
  '[rbp]',
  '[r12]',
  '[r13]',
  '[rax+8]',
  '[rsp+0x80]',
  '[rbp-8]',
  '[r13-0x100]',
  '[rax+rbx*4]',
  '[r12+r13*8+0x1000]',
  '[rsp+r9*2-0x10]',
  '[rip+0x10]',
  '[rbx*2+0x10]',
  'ds:0x1000',
  '[rdi+rsi*1]',
];

function table(): string[] {
  const t: string[] = [];
  const alu = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
  alu.forEach((op, i) => {
    const a = R64[i],
      b = R64[15 - i];
    t.push(
      `${op} ${a}, ${b}`,
      `${op} ${R32[i]}, ${R32[(i + 3) % 16]}`,
      `${op} ${R8[i]}, ${R8[(i + 9) % 16]}`,
      `${op} ${R16[i]}, ${R16[i + 1]}`,
    );
    t.push(
      `${op} ${a}, 1`,
      `${op} ${a}, 0x12345`,
      `${op} ${R32[i]}, -100`,
      `${op} al, 5`,
      `${op} eax, 0x1000`,
      `${op} rax, -0x1000`,
      `${op} ax, 0x1234`,
    );
    t.push(
      `${op} ${a}, QWORD PTR ${MEMS[i]}`,
      `${op} QWORD PTR ${MEMS[i + 8]}, ${b}`,
      `${op} DWORD PTR ${MEMS[i]}, 7`,
      `${op} BYTE PTR ${MEMS[i + 4]}, 0x7f`,
      `${op} QWORD PTR ${MEMS[(i + 2) % 16]}, 0x12345678`,
    );
  });
  R64.forEach((r, i) => {
    t.push(
      `push ${r}`,
      `pop ${r}`,
      `mov ${r}, ${R64[(i + 5) % 16]}`,
      `mov ${R32[i]}, ${R32[(i + 7) % 16]}`,
      `mov ${r}, 0x12345678`,
      `movabs ${r}, 0x123456789abcdef0`,
      `mov ${R32[i]}, 0xffffffff`,
      `inc ${r}`,
      `dec ${R32[i]}`,
      `neg ${r}`,
      `not ${R32[i]}`,
      `lea ${r}, ${MEMS[i]}`,
      `mov ${r}, QWORD PTR ${MEMS[i]}`,
      `mov QWORD PTR ${MEMS[(i + 3) % 16]}, ${r}`,
      `movzx ${R32[i]}, BYTE PTR ${MEMS[i]}`,
      `movsx ${r}, WORD PTR ${MEMS[(i + 1) % 16]}`,
      `movsxd ${r}, DWORD PTR ${MEMS[(i + 2) % 16]}`,
      `movzx ${R32[i]}, ${R8[(i + 1) % 16]}`,
      `movsx ${r}, ${R16[(i + 2) % 16]}`,
      `movsxd ${r}, ${R32[(i + 4) % 16]}`,
      `shl ${r}, 1`,
      `shr ${R32[i]}, 5`,
      `sar ${r}, cl`,
      `shl ${R8[i]}, 3`,
      `imul ${r}, ${R64[(i + 1) % 16]}`,
      `imul ${R32[i]}, ${R32[(i + 2) % 16]}, 10`,
      `imul ${r}, QWORD PTR ${MEMS[i]}, 0x1000`,
      `test ${r}, ${R64[(i + 3) % 16]}`,
      `test ${R32[i]}, 0x100`,
      `call ${r}`,
      `jmp ${r}`,
      `push QWORD PTR ${MEMS[i]}`,
      `pop QWORD PTR ${MEMS[(i + 5) % 16]}`,
      `cmove ${r}, ${R64[(i + 1) % 16]}`,
      `setg ${R8[i]}`,
      `xchg ${r}, ${R64[(i + 1) % 16]}`,
    );
  });
  for (const x of ['ah', 'bh', 'ch', 'dh']) t.push(`mov ${x}, 1`, `add ${x}, bl`, `movzx eax, ${x}`, `cmp ${x}, 0x10`);
  t.push(
    'mov BYTE PTR [rdi], 0x12',
    'mov WORD PTR [rdi+2], 0x1234',
    'mov DWORD PTR [rdi], 0x12345678',
    'mov QWORD PTR [rdi], -2',
    'mov ax, 0x5678',
    'mov cx, ax',
    'mov ax, WORD PTR [rsi]',
    'movzx eax, WORD PTR [rsi]',
    'movzx ax, BYTE PTR [rsi]',
    'push 0x12',
    'push -1',
    'push 0x12345678',
    'call QWORD PTR [rip+0x100]',
    'jmp QWORD PTR [rax*8+0x2000]',
    'ret',
    'ret 0x10',
    'leave',
    'nop',
    'hlt',
    'int3',
    'cdqe',
    'cqo',
    'cdq',
    'cwde',
    'xchg ax, ax',
    'endbr64',
    'pause',
    'nop DWORD PTR [rax]',
    'nop DWORD PTR [rax+0x0]',
    'nop DWORD PTR [rax+rax*1+0x0]',
    'nop WORD PTR [rax+rax*1+0x0]',
    'nop DWORD PTR [rax+0x0]',
    'nop DWORD PTR [rax+rax*1+0x0]',
    'nop WORD PTR cs:[rax+rax*1+0x0]',
    'mul rbx',
    'imul rcx',
    'div rcx',
    'idiv DWORD PTR [rdi]',
    'test BYTE PTR [rdi], 1',
    'test al, 0x80',
    'test eax, 0x80000',
    'inc BYTE PTR [rdi]',
    'dec QWORD PTR [rsp+8]',
    'shl DWORD PTR [rdi], 3',
    'sar QWORD PTR [rdi], cl',
    'shr BYTE PTR [rdi], 1',
    'xchg QWORD PTR [rdi], rax',
    'sete BYTE PTR [rdi]',
    'cmovl eax, DWORD PTR [rdi]',
    'lea eax, [rdi+rsi*2-8]',
    'lea rax, [rip+0x100]',
  );
  // branches with rel8 and rel32 displacements
  const cc = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
  for (const c of cc) t.push(`j${c} .+0x10`, `j${c} .+0x1000`);
  t.push('jmp .+0x10', 'jmp .+0x1000', 'call .+0x1000', 'call .-0x1000');
  return t;
}

const tools = haveTools();
(tools ? describe : describe.skip)('decoder vs objdump', () => {
  test('instruction lengths and mnemonics match GNU objdump', () => {
    const dir = mkdtempSync(join(tmpdir(), 'klpsim-dec-'));
    try {
      const lines = table();
      writeFileSync(join(dir, 't.s'), '.intel_syntax noprefix\n' + lines.map((l) => `  ${l}\n`).join(''));
      execFileSync('as', ['--64', '-o', join(dir, 't.o'), join(dir, 't.s')], { stdio: ['ignore', 'ignore', 'pipe'] });
      execFileSync('objcopy', ['-O', 'binary', '-j', '.text', join(dir, 't.o'), join(dir, 't.bin')]);
      const dump = execFileSync('objdump', ['-d', '-M', 'intel', '--insn-width=16', join(dir, 't.o')], { encoding: 'utf8' });
      const bin = new Uint8Array(readFileSync(join(dir, 't.bin')));
      const mem = new Uint8Array(bin.length + 16);
      mem.set(bin);
      const rows: Array<{ addr: number; len: number; text: string }> = [];
      for (const line of dump.split('\n')) {
        const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
        if (!m) continue;
        rows.push({ addr: parseInt(m[1], 16), len: m[2].trim().split(/\s+/).length, text: m[3].trim() });
      }
      expect(rows.length).toBe(lines.length);
      const prefixes = new Set(['cs', 'ds', 'data16', 'repz', 'rep', 'lock', 'rex', 'rex.W', 'bnd', 'notrack']);
      let mnemonicsChecked = 0;
      const problems: string[] = [];
      for (const r of rows) {
        const len = decodeLength(mem, r.addr);
        if (len !== r.len) problems.push(`@${r.addr.toString(16)} ${r.text}: length ${len}, objdump ${r.len}`);
        const first = r.text.split(/\s+/)[0];
        if (!prefixes.has(first)) {
          mnemonicsChecked++;
          const ours = decodeAt(mem, r.addr).mnem;
          if (ours !== first) problems.push(`@${r.addr.toString(16)} ${r.text}: mnemonic ${ours}`);
        }
      }
      expect(problems).toEqual([]);
      expect(mnemonicsChecked).toBeGreaterThan(rows.length * 0.9);
      expect(rows.length).toBeGreaterThan(300);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
if (!tools) {
  test.skip('decoder vs objdump: GNU as/objdump not installed, cross-check skipped', () => undefined);
}
