export type RelocKind = 'rel32' | 'abs64' | 'abs32';

/** A field the loader must patch with the address of a symbol outside the block. */
export interface AsmReloc {
  /** Byte offset in `bytes` of the field to patch. */
  offset: number;
  /** rel32: S + addend - P (P = address of the field), as ELF R_X86_64_PC32/PLT32; abs64/abs32: S + addend. */
  kind: RelocKind;
  /** An external symbol (never a label defined in the block). */
  symbol: string;
  /** For a rip-relative operand: -(distance from field to end of instruction), plus the written addend. */
  addend: number;
  /** Where the symbol was referenced, for "unknown symbol" errors at load time. */
  line: number;
  col: number;
}
