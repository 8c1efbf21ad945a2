/**
 * The parts of an ELF64 relocatable object (ET_REL, x86-64) klpsim links: sections by name, symbols
 * with their binding, type, section, value and size, and relocations per section. Field names follow
 * the ELF specification (include/uapi/linux/elf.h), so the kernel's module loader reads the same way.
 */

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const SHF_MERGE = 0x10;
export const SHF_STRINGS = 0x20;

export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
/** The kernel's SHN_LIVEPATCH: a `.klp.sym.` symbol klp_write_object_relocs() resolves, not the loader. */
export const SHN_LIVEPATCH = 0xff20;

export type SymbolBinding = 'local' | 'global' | 'weak';
export type SymbolType = 'notype' | 'object' | 'func' | 'section' | 'file' | 'common' | 'tls';

export interface ElfSection {
  index: number;
  name: string;
  /** sh_type (SHT_*). */
  type: number;
  /** sh_flags (SHF_*). */
  flags: number;
  size: number;
  addralign: number;
  entsize: number;
  link: number;
  info: number;
  /** The section's bytes; empty for SHT_NOBITS (.bss), whose `size` is what it occupies in memory. */
  data: Uint8Array;
}

export interface ElfSymbol {
  index: number;
  name: string;
  binding: SymbolBinding;
  type: SymbolType;
  /** st_shndx: a section index, or SHN_UNDEF / SHN_ABS / SHN_COMMON / SHN_LIVEPATCH. */
  shndx: number;
  /** The defining section's name when shndx is a real section. */
  section?: string;
  /** Offset in the section (SHN_COMMON: the alignment; SHN_ABS: the value). */
  value: number;
  size: number;
}

export interface ElfRelocation {
  /** r_offset: where the field is, in the section the relocations apply to. */
  offset: number;
  /** ELF64_R_TYPE (R_X86_64_*). */
  type: number;
  /** ELF64_R_SYM: an index into `symbols`. */
  symbol: number;
  addend: number;
}

export interface ElfObject {
  /** Where it came from, for messages. */
  file: string;
  /** Every section, by index (index 0 is the null section). */
  sections: ElfSection[];
  /** Sections by name (the first, when names repeat, as with several `.text` in a COMDAT group). */
  sectionByName: Map<string, ElfSection>;
  /** Every symbol, by index (index 0 is the null symbol). */
  symbols: ElfSymbol[];
  /** The relocations of each section, keyed by the index of the section they apply to. */
  relocations: Map<number, ElfRelocation[]>;
}
