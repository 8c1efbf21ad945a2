import { assemble, AsmError } from '../../../src/x86/assembler';
import { diagnosticsOf } from './helpers';

/** The single diagnostic for a one-error source, as "LINE:COL: message". */
function errorOf(src: string): string {
  const d = diagnosticsOf(src);
  expect(d).toHaveLength(1);
  const first = d[0];
  return `${first.line}:${first.col}: ${first.message}`;
}

describe('errors carry the line and column of the offending token', () => {
  test.each([
    ['unknown mnemonic', 'nop\n  frob rax', "2:3: unknown mnemonic 'frob'"],
    ['operand combination', 'add 5, eax', '1:5: invalid operand combination for add: imm, reg'],
    ['operand combination (lea of a register)', 'lea rax, rbx', '1:5: invalid operand combination for lea: reg, reg'],
    ['operand count', 'ret\nmov rax', '2:1: mov takes 2 operands, got 1'],
    ['unknown register in an index', 'mov rax, [rbx + rzz*8]', "1:17: unknown register 'rzz'"],
    ['unknown register as an operand', 'push r17', "1:6: unknown register 'r17'"],
    ['unknown register next to a base', 'mov eax, [rbx + eqx]', "1:17: unknown register 'eqx'"],
    ['size mismatch', 'add rax, ebx', '1:10: operand size mismatch for add'],
    ['size mismatch with a sized memory operand', 'mov eax, qword ptr [rbx]', '1:10: operand size mismatch for mov'],
    ['size not specified', 'inc [rax]', '1:5: operand size not specified for inc (use byte/word/dword/qword ptr)'],
    ['immediate out of range (8-bit)', 'mov al, 256', '1:9: immediate 256 is out of range for an 8-bit operand'],
    [
      'immediate out of range (imm32 of a 64-bit op)',
      'add rax, 0x80000000',
      '1:10: immediate 2147483648 is out of range (a 64-bit operation takes a sign-extended 32-bit immediate)',
    ],
    ['data value out of range', '.byte 1, 300', '1:10: value 300 is out of range for 8 bits'],
    ['undefined local label', 'jmp .Lnowhere', "1:5: undefined local label '.Lnowhere'"],
    ['register used as a label', 'rax:\nret', "1:1: 'rax' is a reserved word and can't be a label"],
    ['register in an expression', 'mov rax, rbx + 1', "1:10: register 'rbx' can't be used in an expression"],
    ['malformed expression', 'mov eax, 1 + * 2', "1:14: malformed expression: unexpected '*'"],
    ['trailing junk', 'mov eax, 1 2', "1:12: unexpected '2' after operand"],
    [
      'bare symbol as data operand',
      'mov rax, counter',
      "1:10: bare symbol 'counter' can't be an operand of mov: write [rip + counter] for its memory or offset counter for its address",
    ],
    ['duplicate label', 'a: nop\n  a: nop', "2:3: duplicate label 'a'"],
    ['unterminated string', 'nop\n.asciz "abc', '2:8: unterminated string'],
    ['unknown directive', '.frob 1', "1:1: unknown directive '.frob'"],
    ['bad scale', 'mov rax, [rbx + rcx*3]', '1:21: scale must be 1, 2, 4 or 8, not 3'],
    ['rsp as an index', 'mov rax, [rsp*2]', "1:11: 'rsp' can't be an index register"],
    ['32-bit address register', 'mov rax, [eax]', "1:11: 'eax' can't be used as an address register (only 64-bit registers can)"],
    ['rip with an index', 'lea rax, [rip + rax]', '1:17: rip-relative address can only be [rip + displacement]'],
    ['high byte register with REX', 'mov ah, r8b', "1:5: can't encode register 'ah' in an instruction requiring REX prefix"],
    [
      'absolute address of a local label',
      'mov eax, offset here\nhere: ret',
      "1:17: absolute address of label 'here' is not known until load time; use [rip + here]",
    ],
    ['branch to a number', 'jmp 0x10', '1:5: jmp target must be a label or symbol, not a number'],
    ['shift by a register other than cl', 'shl rax, bl', '1:10: shift count register must be cl, not bl'],
    ['malformed number', 'mov eax, 12abc', "1:10: malformed number '12abc'"],
    ['missing operand', 'mov rax,', "1:9: missing operand after ','"],
    ['unknown escape', '.ascii "\\q"', '1:9: unknown escape sequence \\q'],
  ])('%s', (_name, src, expected) => {
    expect(errorOf(src)).toBe(expected);
  });

  test('an external symbol is not an error: it becomes a relocation', () => {
    expect(() => assemble('call somewhere\nlea rax, [rip + elsewhere]')).not.toThrow();
  });

  test('all bad lines are reported, one diagnostic each, in line order', () => {
    const src = [
      'nop',
      'bad1 x',
      'mov rax, ebx',
      'ret',
      '.byte 256',
      'jmp .Lmissing',
      'mov rax, ebx ; second error on a line with one',
    ].join('\n');
    const d = diagnosticsOf(src);
    expect(d.map((x) => `${x.line}:${x.col}`)).toEqual(['2:1', '3:10', '5:7', '6:5', '7:10']);
  });

  test('AsmError.message is the first diagnostic', () => {
    let caught: unknown;
    try {
      assemble('nop\n\n  wat');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AsmError);
    expect((caught as AsmError).message).toBe("3:3: unknown mnemonic 'wat'");
    expect((caught as AsmError).diagnostics).toEqual([{ line: 3, col: 3, message: "unknown mnemonic 'wat'" }]);
  });
});
