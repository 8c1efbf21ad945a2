import { REG16_NAMES, REG32_NAMES, REG64_NAMES, REG8_NAMES } from '../registers';

export type OpSize = 1 | 2 | 4 | 8;

export interface RegInfo {
  name: string;
  /** Hardware number 0..15 (ah/ch/dh/bh are 4..7 without REX). */
  num: number;
  size: OpSize;
  /** ah/ch/dh/bh: only encodable without a REX prefix. */
  high8: boolean;
  /** spl/bpl/sil/dil: only encodable with a REX prefix (otherwise 4..7 mean ah..bh). */
  needsRex: boolean;
}

const TABLE = new Map<string, RegInfo>();
function add(names: readonly string[], size: OpSize): void {
  names.forEach((name, num) => {
    TABLE.set(name, { name, num, size, high8: false, needsRex: size === 1 && num >= 4 && num <= 7 });
  });
}
add(REG64_NAMES, 8);
add(REG32_NAMES, 4);
add(REG16_NAMES, 2);
add(REG8_NAMES, 1);
['ah', 'ch', 'dh', 'bh'].forEach((name, i) => {
  TABLE.set(name, { name, num: 4 + i, size: 1, high8: true, needsRex: false });
});

/** The general-purpose register called `name` (case-insensitive), if any. `rip` is not one: see isRip. */
export function lookupRegister(name: string): RegInfo | undefined {
  return TABLE.get(name.toLowerCase());
}

export function isRip(name: string): boolean {
  return name.toLowerCase() === 'rip';
}

/** Names that can never be symbols or labels: registers and the operand keywords. */
export function isReservedName(name: string): boolean {
  const lower = name.toLowerCase();
  return TABLE.has(lower) || lower === 'rip' || RESERVED_WORDS.has(lower);
}

export const SIZE_KEYWORDS: ReadonlyMap<string, OpSize> = new Map<string, OpSize>([
  ['byte', 1],
  ['word', 2],
  ['dword', 4],
  ['qword', 8],
]);

const RESERVED_WORDS = new Set(['ptr', 'offset', ...SIZE_KEYWORDS.keys()]);

/**
 * Whether an unknown name is shaped like a register (r11x, rzx, eqx): in a register position that is
 * almost certainly a typo, which deserves "unknown register" rather than a silent symbol reference.
 */
export function looksLikeRegister(name: string): boolean {
  return !lookupRegister(name) && /^(r\d{1,2}[bwdl]?|r[a-z]{2}|e[a-z]{2})$/i.test(name);
}
