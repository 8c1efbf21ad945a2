import { assemble } from '../../../src/x86/assembler';
import { FTRACE_SITE_NOP } from '../../../src/x86/ftrace-site';
import { hexOf } from './helpers';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('ftrace site and kind', () => {
  const fn = 'push rbp\nmov rbp, rsp\npop rbp\nret';

  test('functions start with the 5-byte ftrace nop by default', () => {
    const r = assemble(fn);
    expect(r.kind).toBe('func');
    expect(Array.from(r.bytes.slice(0, 5))).toEqual(FTRACE_SITE_NOP);
    expect(hex(r.bytes)).toBe('0f1f440000' + '554889e55dc3');
  });

  test('ftraceSite: false leaves the site out', () => {
    expect(hex(assemble(fn, { ftraceSite: false }).bytes)).toBe('554889e55dc3');
  });

  test('labels and relocation offsets count the site', () => {
    const r = assemble('nop\nhere:\ncall ext');
    expect(r.labels.get('here')).toBe(6);
    expect(r.relocs[0]?.offset).toBe(7);
    const bare = assemble('nop\nhere:\ncall ext', { ftraceSite: false });
    expect(bare.labels.get('here')).toBe(1);
    expect(bare.relocs[0]?.offset).toBe(2);
  });

  test('a block of data directives and labels is data and gets no site', () => {
    const r = assemble('msg:\n  .asciz "cmdline\\n"');
    expect(r.kind).toBe('data');
    expect(Buffer.from(r.bytes).toString('latin1')).toBe('cmdline\n\0');
    expect(r.labels.get('msg')).toBe(0);
  });

  test('one instruction makes the block a function, data included', () => {
    const r = assemble('ret\n.byte 1', { ftraceSite: false });
    expect(r.kind).toBe('func');
    expect(hex(r.bytes)).toBe('c301');
  });

  test('an empty (or comment-only) block is empty data', () => {
    const r = assemble('; nothing\n\n');
    expect(r.kind).toBe('data');
    expect(r.bytes.length).toBe(0);
  });
});

describe('data directives', () => {
  test('string escapes', () => {
    const r = assemble('.ascii "a\\tb\\\\c\\"d\\0e\\x41\\n"');
    expect(Array.from(r.bytes)).toEqual([0x61, 9, 0x62, 0x5c, 0x63, 0x22, 0x64, 0, 0x65, 0x41, 10]);
  });

  test('comment characters inside strings are text', () => {
    expect(Buffer.from(assemble('.ascii "a;b#c//d" ; real comment').bytes).toString()).toBe('a;b#c//d');
  });

  test('integers are little-endian in their width', () => {
    expect(hexOf('.byte 1, -1, 255')).toBe('01 ff ff');
    expect(hexOf('.word 0x1234')).toBe('34 12');
    expect(hexOf('.long -2')).toBe('fe ff ff ff');
    expect(hexOf('.quad 0x1122334455667788')).toBe('88 77 66 55 44 33 22 11');
    expect(hexOf('.zero 3')).toBe('00 00 00');
  });

  test('.quad sym and .long sym become absolute relocations', () => {
    const r = assemble('.quad 5\n.quad seq_show + 8\n.long other');
    expect(hex(r.bytes)).toBe('0500000000000000' + '0000000000000000' + '00000000');
    expect(r.relocs).toEqual([
      { offset: 8, kind: 'abs64', symbol: 'seq_show', addend: 8, line: 2, col: 7 },
      { offset: 16, kind: 'abs32', symbol: 'other', addend: 0, line: 3, col: 7 },
    ]);
  });

  test('.align pads with nops in a function and zeros in data', () => {
    expect(hexOf('ret\n.align 4\nret')).toBe('c3 90 90 90 c3');
    expect(hexOf('.byte 1\n.align 4\n.byte 2')).toBe('01 00 00 00 02');
    expect(hexOf('.byte 1\n.align 4, 0xcc\n.byte 2')).toBe('01 cc cc cc 02');
  });
});

describe('relocations for external symbols', () => {
  test('the example function', () => {
    const r = assemble(
      'push rbp\nmov rbp, rsp\nlea rsi, [rip + msg]     ; msg is another symbol\ncall seq_puts\nxor eax, eax\npop rbp\nret',
    );
    expect(hex(r.bytes)).toBe('0f1f440000' + '55' + '4889e5' + '488d3500000000' + 'e800000000' + '31c0' + '5d' + 'c3');
    expect(r.relocs).toEqual([
      { offset: 12, kind: 'rel32', symbol: 'msg', addend: -4, line: 3, col: 17 },
      { offset: 17, kind: 'rel32', symbol: 'seq_puts', addend: -4, line: 4, col: 6 },
    ]);
  });

  test.each([
    ['lea rsi, [rip + data + 8]', 3, 4],
    ['mov dword ptr [rip + v], 5', 2, -8],
    ['mov qword ptr [rip + v], 5', 3, -8],
    ['cmp byte ptr [rip + v], 1', 2, -5],
    ['mov word ptr [rip + v], 1', 3, -6],
    ['jmp target', 1, -4],
    ['jne target', 2, -4],
    ['call target + 4', 1, 0],
  ])('%s: rel32 at %d, addend %d', (src, offset, addend) => {
    const r = assemble(src, { ftraceSite: false });
    expect(r.relocs).toHaveLength(1);
    expect(r.relocs[0]).toMatchObject({ offset, kind: 'rel32', addend });
  });

  test('absolute references: offset sym and [reg + sym]', () => {
    const r = assemble('mov eax, offset table\nmov rax, [rbx + table + 4]\nmovabs rcx, offset big', { ftraceSite: false });
    expect(r.relocs.map((x) => [x.offset, x.kind, x.symbol, x.addend])).toEqual([
      [1, 'abs32', 'table', 0],
      [8, 'abs32', 'table', 4],
      [14, 'abs64', 'big', 0],
    ]);
  });

  test('references to labels of the block are resolved, not relocated', () => {
    const r = assemble('lea rax, [rip + tab]\ncall helper\nret\nhelper:\nret\ntab:\n.quad 1', { ftraceSite: false });
    expect(r.relocs).toEqual([]);
    // lea is 7 bytes, so tab (at 7+5+1+1 = 14) is 7 past the end of the lea.
    expect(hex(r.bytes.slice(0, 7))).toBe('488d0507000000');
    expect(hex(r.bytes.slice(7, 12))).toBe('e801000000');
    expect(r.labels).toEqual(
      new Map([
        ['helper', 13],
        ['tab', 14],
      ]),
    );
  });
});

describe('branch relaxation', () => {
  test('short when the target is within rel8', () => {
    expect(hexOf('top:\nnop\njmp top')).toBe('90 eb fd');
    expect(hexOf('je out\nnop\nout:')).toBe('74 01 90');
  });

  test('forward jump over exactly 127 bytes stays short, 128 goes long', () => {
    expect(hexOf('jmp a\n.zero 127\na:').slice(0, 5)).toBe('eb 7f');
    expect(hexOf('jmp a\n.zero 128\na:').slice(0, 14)).toBe('e9 80 00 00 00');
  });

  test('backward jcc at -128 stays short, -129 goes long', () => {
    expect(hexOf('b:\n.zero 126\njne b').slice(-5)).toBe('75 80');
    expect(hexOf('b:\n.zero 127\njne b').slice(-17)).toBe('0f 85 7b ff ff ff');
  });

  test('growing one branch can push another out of range', () => {
    // `je c` first fits (125 bytes ahead) but `jmp far` growing by 3 bytes pushes it to 128.
    const src = 'je c\n.zero 123\njmp far\nc:\n.zero 128\nfar:\nret';
    const bytes = hexOf(src).split(' ');
    expect(bytes.slice(0, 6)).toEqual(['0f', '84', '80', '00', '00', '00']);
    expect(bytes[129]).toBe('e9');
  });

  test('calls to labels are always rel32', () => {
    expect(hexOf('f:\ncall f')).toBe('e8 fb ff ff ff');
  });
});
