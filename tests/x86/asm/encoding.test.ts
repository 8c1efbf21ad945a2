import { hexOf } from './helpers';

describe('instruction encodings', () => {
  test.each([
    ['push rbp', '55'],
    ['push r12', '41 54'],
    ['pop r15', '41 5f'],
    ['push 1', '6a 01'],
    ['push 0x1000', '68 00 10 00 00'],
    ['mov rbp, rsp', '48 89 e5'],
    ['mov r8d, eax', '41 89 c0'],
    ['mov rax, [rsp]', '48 8b 04 24'],
    ['mov rax, [r12]', '49 8b 04 24'],
    ['mov rax, [rbp]', '48 8b 45 00'],
    ['mov rax, [r13]', '49 8b 45 00'],
    ['mov eax, [rbx + 127]', '8b 43 7f'],
    ['mov eax, [rbx + 128]', '8b 83 80 00 00 00'],
    ['mov eax, [rbx - 128]', '8b 43 80'],
    ['mov rdx, [rax + r9*4 + 0x10]', '4a 8b 54 88 10'],
    ['mov [rdi + 8], rsi', '48 89 77 08'],
    ['mov al, [rax]', '8a 00'],
    ['mov sil, 1', '40 b6 01'],
    ['mov byte ptr [rax], 0xff', 'c6 00 ff'],
    ['mov dword ptr [rsp + 4], 7', 'c7 44 24 04 07 00 00 00'],
    ['mov qword ptr [rax], -1', '48 c7 00 ff ff ff ff'],
    ['mov eax, 1', 'b8 01 00 00 00'],
    ['mov r9d, 0xffffffff', '41 b9 ff ff ff ff'],
    ['mov rax, 1', '48 c7 c0 01 00 00 00'],
    ['mov rax, -1', '48 c7 c0 ff ff ff ff'],
    ['mov rax, 0xffffffff', '48 b8 ff ff ff ff 00 00 00 00'],
    ['mov r10, 0x1122334455667788', '49 ba 88 77 66 55 44 33 22 11'],
    ['movzx eax, byte ptr [rdi]', '0f b6 07'],
    ['movsx rax, word ptr [rsi]', '48 0f bf 06'],
    ['movsxd rax, ecx', '48 63 c1'],
    ['lea rsi, [rip + 0x10]', '48 8d 35 10 00 00 00'],
    ['lea rax, [rax*8 + 0x40]', '48 8d 04 c5 40 00 00 00'],
    ['add rax, rbx', '48 01 d8'],
    ['add rax, 1', '48 83 c0 01'],
    ['add rax, 0x1000', '48 05 00 10 00 00'],
    ['add rbx, 0x1000', '48 81 c3 00 10 00 00'],
    ['add eax, 0xffffffff', '83 c0 ff'],
    ['add al, 1', '04 01'],
    ['sub rsp, 8', '48 83 ec 08'],
    ['and ecx, [rax]', '23 08'],
    ['xor eax, eax', '31 c0'],
    ['cmp byte ptr [rdi], 0', '80 3f 00'],
    ['test rax, rax', '48 85 c0'],
    ['test eax, 1', 'a9 01 00 00 00'],
    ['test bl, 1', 'f6 c3 01'],
    ['imul rax, rbx', '48 0f af c3'],
    ['imul eax, ebx, 10', '6b c3 0a'],
    ['imul eax, ebx, 1000', '69 c3 e8 03 00 00'],
    ['inc dword ptr [rax]', 'ff 00'],
    ['dec r8', '49 ff c8'],
    ['neg rax', '48 f7 d8'],
    ['not byte ptr [rbx]', 'f6 13'],
    ['shl rax, 1', '48 d1 e0'],
    ['shr ecx, 4', 'c1 e9 04'],
    ['sar rdx, cl', '48 d3 fa'],
    ['call rax', 'ff d0'],
    ['call r11', '41 ff d3'],
    ['jmp r8', '41 ff e0'],
    ['jmp qword ptr [rax + 8]', 'ff 60 08'],
    ['sete al', '0f 94 c0'],
    ['cmovne rax, rbx', '48 0f 45 c3'],
    ['ret', 'c3'],
    ['leave', 'c9'],
    ['nop', '90'],
    ['nop dword ptr [rax + rax*1 + 0]', '0f 1f 04 00'],
    ['nop word ptr [rax + rax*1 + 0x10]', '66 0f 1f 44 00 10'],
    ['int3', 'cc'],
    ['ud2', '0f 0b'],
    ['hlt', 'f4'],
    ['cdqe', '48 98'],
    ['cqo', '48 99'],
  ])('%s', (src, bytes) => {
    expect(hexOf(src)).toBe(bytes);
  });

  test('mnemonics, registers and size keywords are case-insensitive', () => {
    expect(hexOf('MOV RAX, QWORD PTR [RBX]')).toBe(hexOf('mov rax, qword ptr [rbx]'));
    expect(hexOf('Xor R8D, R8D')).toBe('45 31 c0');
  });

  test('the 8-bit registers that need REX get a bare 0x40 prefix', () => {
    expect(hexOf('mov dil, al')).toBe('40 88 c7');
    expect(hexOf('mov bh, al')).toBe('88 c7');
  });

  test('numbers: hex, octal, binary, negative, char literals and constant arithmetic', () => {
    expect(hexOf('mov eax, 0x10')).toBe('b8 10 00 00 00');
    expect(hexOf('mov eax, 010')).toBe('b8 08 00 00 00');
    expect(hexOf('mov eax, 0b11')).toBe('b8 03 00 00 00');
    expect(hexOf('mov eax, -2')).toBe('b8 fe ff ff ff');
    expect(hexOf("mov al, 'A'")).toBe('b0 41');
    expect(hexOf("mov al, '\\n'")).toBe('b0 0a');
    expect(hexOf('sub rsp, (4 + 4) * 2')).toBe('48 83 ec 10');
    expect(hexOf('mov eax, [rbp - 2*8]')).toBe('8b 45 f0');
  });

  test('[reg + rsp] is taken as [rsp + reg], as GNU as does', () => {
    expect(hexOf('mov eax, [rax + rsp]')).toBe(hexOf('mov eax, [rsp + rax]'));
  });

  test('comments: ; # and // outside strings', () => {
    expect(hexOf('nop ; one\nnop # two\nnop // three')).toBe('90 90 90');
  });

  test('a label can share a line with an instruction', () => {
    expect(hexOf('top: dec ecx\njnz top')).toBe('ff c9 75 fc');
  });
});
