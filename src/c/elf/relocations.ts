/**
 * The x86-64 relocation types the loader applies (arch/x86/kernel/module.c, apply_relocate_add()): the
 * ones gcc emits for kernel code with the small code model, and their overflow rules.
 */
export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;

const NAMES: Record<number, string> = {
  0: 'R_X86_64_NONE',
  1: 'R_X86_64_64',
  2: 'R_X86_64_PC32',
  3: 'R_X86_64_GOT32',
  4: 'R_X86_64_PLT32',
  5: 'R_X86_64_COPY',
  6: 'R_X86_64_GLOB_DAT',
  7: 'R_X86_64_JUMP_SLOT',
  8: 'R_X86_64_RELATIVE',
  9: 'R_X86_64_GOTPCREL',
  10: 'R_X86_64_32',
  11: 'R_X86_64_32S',
  12: 'R_X86_64_16',
  13: 'R_X86_64_PC16',
  14: 'R_X86_64_8',
  15: 'R_X86_64_PC8',
  16: 'R_X86_64_DTPMOD64',
  17: 'R_X86_64_DTPOFF64',
  18: 'R_X86_64_TPOFF64',
  19: 'R_X86_64_TLSGD',
  20: 'R_X86_64_TLSLD',
  21: 'R_X86_64_DTPOFF32',
  22: 'R_X86_64_GOTTPOFF',
  23: 'R_X86_64_TPOFF32',
  24: 'R_X86_64_PC64',
  25: 'R_X86_64_GOTOFF64',
  26: 'R_X86_64_GOTPC32',
  41: 'R_X86_64_GOTPCRELX',
  42: 'R_X86_64_REX_GOTPCRELX',
};

export function relocationName(type: number): string {
  return NAMES[type] ?? `relocation type ${type}`;
}

/** What a supported relocation writes: its width, whether it is PC-relative, and the range it must fit. */
export interface RelocationRule {
  bytes: 4 | 8;
  pcRelative: boolean;
  /** 'u32': zero-extended (R_X86_64_32); 's32': sign-extended; 'u64': anything. */
  range: 'u32' | 's32' | 'u64';
}

export function relocationRule(type: number): RelocationRule | undefined {
  switch (type) {
    case R_X86_64_64:
      return { bytes: 8, pcRelative: false, range: 'u64' };
    case R_X86_64_PC32:
    case R_X86_64_PLT32:
      // The kernel treats PLT32 as PC32: a module has no PLT, calls go straight to the target.
      return { bytes: 4, pcRelative: true, range: 's32' };
    case R_X86_64_32:
      return { bytes: 4, pcRelative: false, range: 'u32' };
    case R_X86_64_32S:
      return { bytes: 4, pcRelative: false, range: 's32' };
    default:
      return undefined;
  }
}

/** Does `value` fit the rule's field? (apply_relocate_add()'s "overflow in relocation type" check.) */
export function fitsRelocation(rule: RelocationRule, value: number): boolean {
  if (rule.range === 'u32') return value >= 0 && value <= 0xffff_ffff;
  if (rule.range === 's32') return value >= -0x8000_0000 && value <= 0x7fff_ffff;
  return true;
}
