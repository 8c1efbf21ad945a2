import { assemble, AsmDiagnostic, AsmError, AsmOptions } from '../../../src/x86/assembler';

/** Bytes of `src` as spaced hex, without the ftrace site unless asked for. */
export function hexOf(src: string, options: AsmOptions = { ftraceSite: false }): string {
  return Buffer.from(assemble(src, options).bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1 ');
}

/** The diagnostics assemble() throws for `src` (fails the test when it doesn't throw an AsmError). */
export function diagnosticsOf(src: string): AsmDiagnostic[] {
  try {
    assemble(src);
  } catch (e) {
    if (e instanceof AsmError) return e.diagnostics;
    throw e;
  }
  throw new Error(`expected an AsmError for ${JSON.stringify(src)}`);
}
