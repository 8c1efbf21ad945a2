/**
 * CodeBlock.map: an assembler position inside a symbol's source, mapped to the file, for each way YAML
 * can hold the source.
 */
import { parseScenario } from '../../src/scenario';
import { errorsOf } from './helpers';

const text = [
  'name: positions', //                         1
  'kernel:', //                                 2
  '  functions:', //                            3
  '    lit: |', //                              4
  '      nop', //                               5
  '', //                                        6
  '        ret', //                             7
  '    ind: |2', //                             8
  '        nop', //                             9
  "    sq: '.asciz \"it''s\"'", //            10
  '    dq: ".asciz \\"a\\tb\\""', //            11
  '    pl: .byte 1', //                         12
  '',
].join('\n');

describe('CodeBlock positions', () => {
  const s = parseScenario(text, 'p.yaml');
  const block = (name: string) => {
    const b = s.functions.find((f) => f.name === name);
    if (!b) throw new Error(name);
    return b;
  };

  it('places the block at its key and maps | block lines to the file', () => {
    const lit = block('lit');
    expect(lit.pos).toEqual({ file: 'p.yaml', line: 4, col: 5 });
    expect(lit.source).toBe('nop\n\n  ret\n');
    expect(lit.map(1, 1)).toEqual({ file: 'p.yaml', line: 5, col: 7 });
    expect(lit.map(3, 3)).toEqual({ file: 'p.yaml', line: 7, col: 9 });
  });

  it('honours an explicit indentation indicator', () => {
    expect(block('ind').source).toBe('  nop\n');
    expect(block('ind').map(1, 3)).toEqual({ file: 'p.yaml', line: 9, col: 9 });
  });

  it('maps quoted scalars through their escapes', () => {
    // sq source: .asciz "it's"  — the `s` (col 12 in the source) is after the doubled quote.
    expect(block('sq').source).toBe('.asciz "it\'s"');
    expect(block('sq').map(1, 1)).toEqual({ file: 'p.yaml', line: 10, col: 10 });
    expect(block('sq').map(1, 12)).toEqual({ file: 'p.yaml', line: 10, col: 22 });
    // dq source: .asciz "a<TAB>b" — `b` (col 11) is at file col 22, after the two-character \" and \t.
    expect(block('dq').source).toBe('.asciz "a\tb"');
    expect(block('dq').map(1, 11)).toEqual({ file: 'p.yaml', line: 11, col: 22 });
  });

  it('maps plain scalars', () => {
    expect(block('pl').map(1, 7)).toEqual({ file: 'p.yaml', line: 12, col: 15 });
    expect(block('pl').kind).toBe('data');
    expect(block('lit').kind).toBe('func');
  });

  it('reports assembler errors through the same mapping', () => {
    const bad = text
      .replace("'        ret'", 'x')
      .replace('        ret', '        rett')
      .replace('.asciz \\"a\\tb\\"', '.asciz \\"a\\tb\\" 9');
    expect(errorsOf(bad, 'p.yaml')).toEqual([
      "p.yaml:7:9: in function lit: unknown mnemonic 'rett'",
      "p.yaml:11:26: in data symbol dq: unexpected '9' after string",
    ]);
  });
});
