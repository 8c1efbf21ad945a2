/**
 * Byte-for-byte comparison with GNU as over the whole supported instruction table, plus relocations
 * (offset, kind, symbol, addend) for external references. One `as` run covers every case.
 */
import { assemble, AsmResult, RelocKind } from '../../../src/x86/assembler';
import { CROSSCHECK_CASES } from './crosscheck-cases';
import { GnuCase, gnuAsUnavailable, gnuAssemble } from './gnu-as';

const unavailable = gnuAsUnavailable();
if (unavailable) {
  // eslint-disable-next-line no-console
  console.warn(`Skipping the GNU as cross-check: ${unavailable}`);
}
const describeIfGas = unavailable ? describe.skip : describe;

const KIND_OF_ELF: Record<string, RelocKind> = {
  R_X86_64_PC32: 'rel32',
  R_X86_64_PLT32: 'rel32',
  R_X86_64_32: 'abs32',
  R_X86_64_32S: 'abs32',
  R_X86_64_64: 'abs64',
};

const hex = (b: Uint8Array): string =>
  Buffer.from(b)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');

describeIfGas('assembler matches GNU as (as --64 -msyntax=intel -mnaked-reg)', () => {
  let gnu: GnuCase[] = [];
  beforeAll(() => {
    gnu = gnuAssemble(CROSSCHECK_CASES);
  });

  test('the table is large enough to mean something', () => {
    expect(CROSSCHECK_CASES.length).toBeGreaterThan(600);
  });

  test('every case assembles to the same bytes and relocations', () => {
    const mismatches: string[] = [];
    CROSSCHECK_CASES.forEach((src, i) => {
      const g = gnu[i];
      let ours: AsmResult;
      try {
        ours = assemble(src, { ftraceSite: false });
      } catch (e) {
        mismatches.push(`${JSON.stringify(src)}: ours threw ${(e as Error).message}`);
        return;
      }
      if (hex(ours.bytes) !== hex(g.bytes)) {
        mismatches.push(`${JSON.stringify(src)}:\n    ours ${hex(ours.bytes)}\n    gnu  ${hex(g.bytes)}`);
      }
      const ourRelocs = ours.relocs.map((r) => `${r.offset} ${r.kind} ${r.symbol}${r.addend >= 0 ? '+' : ''}${r.addend}`);
      const gnuRelocs = g.relocs.map(
        (r) => `${r.offset} ${KIND_OF_ELF[r.type] ?? r.type} ${r.symbol}${r.addend >= 0 ? '+' : ''}${r.addend}`,
      );
      if (ourRelocs.join('; ') !== gnuRelocs.join('; ')) {
        mismatches.push(`${JSON.stringify(src)} relocs:\n    ours ${ourRelocs.join('; ')}\n    gnu  ${gnuRelocs.join('; ')}`);
      }
    });
    expect(mismatches).toEqual([]);
  });
});
