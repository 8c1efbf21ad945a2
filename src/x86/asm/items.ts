import { SymRef } from './expr';

/**
 * A field whose value depends on a symbol: resolved in place when the symbol is a label of the block,
 * otherwise emitted as a relocation.
 */
export interface Fixup {
  /** Offset of the field within its item's bytes. */
  at: number;
  size: 4 | 8;
  /** PC-relative (value = S + addend - P, P = field address) or absolute (S + addend). */
  pcrel: boolean;
  sym: SymRef;
  /** For a pc-relative operand this already includes -(distance from field to end of instruction). */
  addend: bigint;
}

/** Fixed-size output: an instruction or data. */
export interface BytesItem {
  t: 'bytes';
  bytes: number[];
  fixups: Fixup[];
  line: number;
}

/** jmp/jcc/call to a symbol; jmp/jcc to a label of the block are relaxed between rel8 and rel32. */
export interface BranchItem {
  t: 'branch';
  op: 'jmp' | 'jcc' | 'call';
  /** Condition code (0..15) for jcc. */
  cc: number;
  target: SymRef;
  addend: bigint;
  line: number;
}

export interface AlignItem {
  t: 'align';
  alignment: number;
  /** Padding byte; when absent, nop (0x90) in a function and zero in a data block. */
  fill?: number;
  line: number;
}

export interface LabelItem {
  t: 'label';
  name: string;
  line: number;
  col: number;
}

export type Item = BytesItem | BranchItem | AlignItem | LabelItem;

/** Little-endian two's-complement bytes of `value` in `size` bytes. */
export function leBytes(value: bigint, size: number): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export function fitsSigned(value: bigint, bits: number): boolean {
  const lim = 1n << BigInt(bits - 1);
  return value >= -lim && value < lim;
}
