/**
 * The instruction forms compared byte for byte against GNU as: every mnemonic the assembler supports,
 * crossed with operand shapes, all sixteen registers, the special bases (rsp/r12 need a SIB, rbp/r13 a
 * displacement), disp8/disp32 boundaries and every operand size.
 */
import { REG16_NAMES, REG32_NAMES, REG64_NAMES, REG8_NAMES } from '../../../src/x86/registers';

const CC = [
  'o',
  'no',
  'b',
  'c',
  'nae',
  'ae',
  'nb',
  'nc',
  'e',
  'z',
  'ne',
  'nz',
  'be',
  'na',
  'a',
  'nbe',
  's',
  'ns',
  'p',
  'pe',
  'np',
  'po',
  'l',
  'nge',
  'ge',
  'nl',
  'le',
  'ng',
  'g',
  'nle',
];

const MEMS = [
  '[rax]',
  '[rcx + 8]',
  '[rsp]',
  '[rsp + 8]',
  '[rbp]',
  '[rbp - 8]',
  '[r12]',
  '[r12 + 0x100]',
  '[r13]',
  '[r13 + 1]',
  '[r15 + rax*8]',
  '[rax + r9*4 + 0x10]',
  '[rbx + rcx*2 - 128]',
  '[rdi + 127]',
  '[rsi + 128]',
  '[rsi - 129]',
  '[rax*8 + 0x40]',
  '[r11*2]',
  '[0x1000]',
  '[rip + 0x10]',
  '[rbp + r12*1 + 0x7fffffff]',
  '[r13 + r13*2]',
  '[rsp + rbp]',
  '[rax + rsp]',
  '[r8 - 0x80000000]',
  '[4*rdx + rbx]',
  '[rax + 0]',
];

const SIZE_NAME = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword' } as const;
const REGS = { 1: REG8_NAMES, 2: REG16_NAMES, 4: REG32_NAMES, 8: REG64_NAMES } as const;
type Size = 1 | 2 | 4 | 8;
const SIZES: Size[] = [1, 2, 4, 8];

function cases(): string[] {
  const out: string[] = [];
  const pick = (size: Size, i: number): string => REGS[size][i % 16];

  // mov in every direction and size, all registers on both sides.
  for (const size of SIZES) {
    for (let i = 0; i < 16; i++) out.push(`mov ${pick(size, i)}, ${pick(size, (i * 7 + 3) % 16)}`);
  }
  out.push('mov ah, bh', 'mov al, ch', 'mov dh, [rax]', 'mov ax, word ptr [rbx]');
  for (const m of MEMS) out.push(`mov rax, ${m}`, `mov ${m}, r9d`, `mov r10w, ${m}`, `mov ${m}, sil`);
  out.push('mov rax, qword ptr [rbx]', 'mov byte ptr [rax], dil', 'mov al, [rax]', 'mov r12b, byte ptr [r13]');
  for (const v of [
    '0',
    '1',
    '-1',
    '0x7fffffff',
    '-0x80000000',
    '0x80000000',
    '0xffffffff',
    '0x100000000',
    '0x123456789abcdef0',
    '0xffffffffffffffff',
  ]) {
    out.push(`mov rax, ${v}`, `mov r11, ${v}`);
  }
  for (const v of ['0', '-1', '0xffffffff', '0x12345678']) out.push(`mov eax, ${v}`, `mov r14d, ${v}`);
  out.push('mov ax, 0xffff', 'mov r9w, -2', 'mov al, 0xff', 'mov spl, 1', 'mov r15b, -128', 'mov ah, 5');
  for (const size of SIZES) {
    out.push(
      `mov ${SIZE_NAME[size]} ptr [rax], 1`,
      `mov ${SIZE_NAME[size]} ptr [r12 + 8], -1`,
      `mov ${SIZE_NAME[size]} ptr [rbp - 0x100], 0x7f`,
    );
  }
  out.push('mov dword ptr [rsp + 4], 0x12345678', 'mov qword ptr [r13], -0x80000000', 'movabs rax, 1', 'movabs r10, 0x1122334455667788');

  // The eight ALU operations.
  for (const op of ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp']) {
    out.push(`${op} rax, rbx`, `${op} r8, r15`, `${op} ecx, r12d`, `${op} dx, si`, `${op} al, r9b`, `${op} bpl, ah`.replace('ah', 'dil'));
    out.push(`${op} rax, [rbx + 8]`, `${op} [rsp], r13`, `${op} r10d, dword ptr [r13]`, `${op} byte ptr [rax + rcx], dl`);
    out.push(`${op} rax, 1`, `${op} rax, -128`, `${op} rax, 127`, `${op} rax, 128`, `${op} rax, 0x12345678`, `${op} rax, -0x80000000`);
    out.push(`${op} rbx, 1`, `${op} rbx, 0x1000`, `${op} r9, -129`, `${op} eax, 0x1000`, `${op} eax, 0xffffffff`, `${op} esi, 0x80000000`);
    out.push(`${op} ax, 0x1000`, `${op} ax, 0xff80`, `${op} cx, 5`, `${op} al, 1`, `${op} al, 0xff`, `${op} r10b, 0x80`);
    for (const size of SIZES) out.push(`${op} ${SIZE_NAME[size]} ptr [rbp - 8], 1`, `${op} ${SIZE_NAME[size]} ptr [r12 + rax*4], 0x70`);
    out.push(`${op} dword ptr [rax], 0x1000`, `${op} qword ptr [rip + 0x20], 0x12345`);
  }

  out.push('test rax, rbx', 'test r8d, eax', 'test cx, r11w', 'test al, bl', 'test sil, sil', 'test [rax], rcx', 'test rcx, [rax]');
  out.push('test eax, 1', 'test rax, 0x100', 'test al, 0x80', 'test ax, 1', 'test ebx, 1', 'test r9, -1', 'test bl, 1', 'test r12b, 4');
  out.push('test dword ptr [rdi + 0x10], 0x4000', 'test byte ptr [rsi], 1', 'test qword ptr [r14], 2', 'test word ptr [rbx], 0x8000');

  out.push('imul rax, rbx', 'imul r9d, dword ptr [r13 + 8]', 'imul cx, dx', 'imul rax, rbx, 10', 'imul eax, ebx, 0x1000');
  out.push('imul r12, [rsp + 8], -3', 'imul eax, 10', 'imul r15, 0x12345', 'imul rcx', 'imul byte ptr [rax]', 'imul dx, ax, 0x7f');

  for (const op of ['inc', 'dec', 'neg', 'not', 'mul', 'div', 'idiv']) {
    out.push(`${op} rax`, `${op} r13`, `${op} ecx`, `${op} r8w`, `${op} bl`, `${op} spl`, `${op} ah`);
    for (const size of SIZES) out.push(`${op} ${SIZE_NAME[size]} ptr [rbx + 0x40]`);
  }

  for (const op of ['shl', 'sal', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr']) {
    out.push(`${op} rax, 1`, `${op} rax`, `${op} r10, 4`, `${op} ecx, cl`, `${op} bx, 15`, `${op} dil, cl`, `${op} r12d, 31`);
    out.push(`${op} qword ptr [rax], 1`, `${op} dword ptr [r13], cl`, `${op} byte ptr [rsp], 7`, `${op} word ptr [rbp + 2], 1`);
  }

  for (let i = 0; i < 16; i++) out.push(`push ${REG64_NAMES[i]}`, `pop ${REG64_NAMES[i]}`);
  out.push('push ax', 'pop r9w', 'push 1', 'push -128', 'push 127', 'push 128', 'push 0x12345678', 'push -0x80000000');
  out.push('push qword ptr [rax]', 'push [rbp - 8]', 'pop qword ptr [r12]', 'pop [rsp + 16]', 'push word ptr [rbx]');

  for (const op of ['movzx', 'movsx']) {
    out.push(`${op} eax, bl`, `${op} rax, r8b`, `${op} r9d, sil`, `${op} ax, cl`, `${op} eax, cx`, `${op} r15, r14w`, `${op} ecx, ah`);
    out.push(`${op} eax, byte ptr [rax]`, `${op} rdx, word ptr [rbp - 2]`, `${op} r10w, byte ptr [r12]`, `${op} r11, byte ptr [rip + 4]`);
  }
  out.push('movsxd rax, ebx', 'movsxd r8, r15d', 'movsxd rcx, dword ptr [rdx + rsi*4]', 'movsxd r13, [r13]');

  for (const m of MEMS) out.push(`lea rax, ${m}`, `lea r12, ${m}`);
  out.push('lea eax, [rbx + rcx]', 'lea r9w, [rax + 2]', 'lea rsp, [rsp + 8]', 'lea rbp, [rip - 0x10]');

  for (const r of ['rax', 'rbx', 'r8', 'r15', 'rsp', 'rbp']) out.push(`call ${r}`, `jmp ${r}`);
  out.push('call qword ptr [rax]', 'call [rip + 0x100]', 'jmp qword ptr [r12 + rax*8]', 'jmp [rbp + 8]');

  for (const cc of CC) {
    out.push(`set${cc} al`, `cmov${cc} rax, rbx`);
  }
  out.push(
    'sete r9b',
    'setne sil',
    'setg byte ptr [rax]',
    'setb ah',
    'cmovz r10d, dword ptr [rsp]',
    'cmovge cx, r8w',
    'cmovl r15, [rbp - 8]',
  );

  out.push(
    'nop',
    'nop eax',
    'nop rax',
    'nop dword ptr [rax]',
    'nop dword ptr [rax + 0]',
    'nop dword ptr [rax + rax*1 + 0]',
    'nop word ptr [rax + rax*1 + 0]',
    'nop dword ptr [rax + 0x10]',
    'nop dword ptr [rax + rax*1 + 0x1000]',
    'nop word ptr [r8]',
  );
  out.push(
    'ret',
    'ret 8',
    'leave',
    'int3',
    'ud2',
    'hlt',
    'cdqe',
    'cqo',
    'cdq',
    'cwde',
    'cbw',
    'cwd',
    'pause',
    'cli',
    'sti',
    'clc',
    'stc',
    'cld',
    'std',
    'lfence',
    'mfence',
    'sfence',
  );

  out.push(
    'MOV RAX, RBX',
    'Add Eax, 0X10',
    "mov al, 'A'",
    "cmp dil, '\\n'",
    'mov eax, 010',
    'mov ecx, 0b101',
    'add rax, 2*8 + 1',
    'sub rsp, (4 + 4) * 2',
  );
  return out;
}

/** Blocks with labels, relaxation and external references (several lines per case). */
function blocks(): string[] {
  const out: string[] = [];
  // Backward and forward branches, short and long; names unique across the combined GNU as file.
  for (const cc of CC) out.push(`.Lbk_${cc}:\n  nop\n  j${cc} .Lbk_${cc}\n  j${cc} .Lfw_${cc}\n  nop\n.Lfw_${cc}:`);
  out.push('.Lf1:\n  jmp .Lf2\n  .zero 127\n.Lf2:\n  jmp .Lf1');
  out.push('.Lg1:\n  jmp .Lg2\n  .zero 128\n.Lg2:\n  jmp .Lg1');
  out.push('.Lh1:\n  .zero 126\n  jne .Lh1\n  jne .Lh2\n  .zero 127\n.Lh2:');
  out.push('.Li1:\n  .zero 125\n  jne .Li1\n  je .Li2\n  .zero 128\n.Li2:');
  // A chain where growing one branch pushes the next out of rel8 range.
  out.push('.Lc1:\n  je .Lc3\n  jmp .Lc2\n  .zero 120\n  jmp .Lc1\n.Lc2:\n  .zero 3\n.Lc3:\n  ret');
  out.push(
    '.Ld0:\n  call .Ld1\n  ret\n.Ld1:\n  call .Ld0\n  lea rax, [rip + .Ld0]\n  lea rbx, [rip + .Ld1 + 8]\n  mov ecx, dword ptr [rip + .Ldat]\n  cmp byte ptr [rip + .Ldat], 1\n  ret\n.Ldat:\n  .long 5',
  );
  out.push('push rbp\nmov rbp, rsp\nlea rsi, [rip + msg]\ncall seq_puts\nxor eax, eax\npop rbp\nret');
  // External references: every relocation shape (field offset, kind, addend).
  out.push(
    'call ext_fn',
    'jmp ext_fn',
    'je ext_fn',
    'jg ext_fn + 4',
    'lea rsi, [rip + ext_data]',
    'lea rsi, [rip + ext_data + 8]',
    'mov rax, qword ptr [rip + ext_data - 16]',
    'mov dword ptr [rip + ext_var], 5',
    'mov qword ptr [rip + ext_var], -1',
    'cmp byte ptr [rip + ext_var], 1',
    'mov word ptr [rip + ext_var], 0x1234',
    'add qword ptr [rip + ext_var], 0x1000',
    'mov eax, dword ptr [rbx + ext_tab]',
    'mov rax, [ext_tab + rcx*8]',
    'mov eax, offset ext_sym',
    'mov rax, offset ext_sym + 16',
    'movabs rax, offset ext_sym',
    'push offset ext_sym',
    'add rax, offset ext_sym',
    'imul rax, rbx, offset ext_sym',
    '.quad ext_sym',
    '.quad ext_sym + 8, 5',
    '.long ext_sym',
    'test dword ptr [rip + ext_var], 0x100',
  );
  // Data directives.
  out.push(
    '.asciz "cmdline\\n"',
    '.ascii "a\\tb\\\\c\\"d\\0e\\x41\\x7f"',
    '.string "x", "yz"',
    '.byte 1, 2, -1, 255, 0x80',
    '.word 0x1234, -1',
    '.short 7',
    '.long 0xdeadbeef, -2',
    '.int 3',
    '.quad 0xffffffffffffffff, -5, 0x123456789',
    '.zero 7',
    '.skip 3, 0xcc',
    '.byte 0\n.asciz ""\n.byte 1',
    '.ascii "semi;colon#hash//slash"',
  );
  return out;
}

export const CROSSCHECK_CASES: readonly string[] = [...cases(), ...blocks()];
