/**
 * A reader for ELF64 little-endian x86-64 relocatable objects (the `.o` gcc writes, a `.ko`): the
 * checks the kernel's elf_validity_check() makes before it trusts a module image (magic, class, byte
 * order, machine, type, every header and table inside the file), then sections, symbols and RELA
 * relocations. Everything else (program headers, debug info, groups) is ignored, as a module loader does.
 */
import {
  ElfObject,
  ElfRelocation,
  ElfSection,
  ElfSymbol,
  SHN_ABS,
  SHN_COMMON,
  SHN_LIVEPATCH,
  SHN_UNDEF,
  SHT_NOBITS,
  SHT_REL,
  SHT_RELA,
  SHT_SYMTAB,
  SymbolBinding,
  SymbolType,
} from './elf-types';

/** What is wrong with a file, in words a user can act on (the caller prefixes the file name). */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ElfError';
  }
}

const ET_REL = 1;
const EM_X86_64 = 62;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const RELA_SIZE = 24;
const SHN_LORESERVE = 0xff00;

const BINDINGS: Record<number, SymbolBinding> = { 0: 'local', 1: 'global', 2: 'weak' };
const TYPES: Record<number, SymbolType> = { 0: 'notype', 1: 'object', 2: 'func', 3: 'section', 4: 'file', 5: 'common', 6: 'tls' };
const ET_NAMES: Record<number, string> = {
  0: 'ET_NONE',
  2: 'ET_EXEC (an executable)',
  3: 'ET_DYN (a shared object)',
  4: 'ET_CORE (a core dump)',
};

export function readElfObject(bytes: Uint8Array, file: string): ElfObject {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (at: number, what: string): number => {
    const v = dv.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ElfError(`${what} is too large (0x${v.toString(16)})`);
    return Number(v);
  };
  if (bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46)
    throw new ElfError('not an ELF file (no \\x7fELF magic)');
  if (bytes.length < EHDR_SIZE) throw new ElfError(`truncated ELF header (${bytes.length} bytes, 64 needed)`);
  if (bytes[4] !== ELFCLASS64) throw new ElfError(`not a 64-bit ELF file (EI_CLASS ${bytes[4]}, ELFCLASS64 is 2)`);
  if (bytes[5] !== ELFDATA2LSB) throw new ElfError(`not little-endian (EI_DATA ${bytes[5]}, ELFDATA2LSB is 1)`);
  const type = dv.getUint16(16, true);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) throw new ElfError(`not an x86-64 object (e_machine ${machine}, EM_X86_64 is 62)`);
  if (type !== ET_REL)
    throw new ElfError(`not a relocatable object: e_type is ${ET_NAMES[type] ?? type}, a module is ET_REL (gcc -c, or a .ko)`);
  const shoff = u64(40, 'e_shoff');
  const shentsize = dv.getUint16(58, true);
  const shnum = dv.getUint16(60, true);
  const shstrndx = dv.getUint16(62, true);
  if (shnum === 0) throw new ElfError('no section headers');
  if (shentsize !== SHDR_SIZE) throw new ElfError(`e_shentsize is ${shentsize}, ELF64 section headers are 64 bytes`);
  if (shoff + shnum * SHDR_SIZE > bytes.length) throw new ElfError('the section header table lies beyond the end of the file');
  if (shstrndx >= shnum) throw new ElfError(`e_shstrndx ${shstrndx} is not a section (${shnum} sections)`);

  interface RawSection extends Omit<ElfSection, 'name' | 'data'> {
    nameOff: number;
    offset: number;
  }
  const raw: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * SHDR_SIZE;
    const s: RawSection = {
      index: i,
      nameOff: dv.getUint32(h, true),
      type: dv.getUint32(h + 4, true),
      flags: u64(h + 8, `section ${i}'s sh_flags`),
      offset: u64(h + 24, `section ${i}'s sh_offset`),
      size: u64(h + 32, `section ${i}'s sh_size`),
      link: dv.getUint32(h + 40, true),
      info: dv.getUint32(h + 44, true),
      addralign: u64(h + 48, `section ${i}'s sh_addralign`),
      entsize: u64(h + 56, `section ${i}'s sh_entsize`),
    };
    if (i > 0 && s.type !== SHT_NOBITS && s.offset + s.size > bytes.length)
      throw new ElfError(`section ${i} (offset 0x${s.offset.toString(16)}, size 0x${s.size.toString(16)}) lies beyond the end of the file`);
    raw.push(s);
  }
  const strtab = (sec: RawSection) => bytes.subarray(sec.offset, sec.offset + sec.size);
  const cstr = (tab: Uint8Array, off: number, what: string): string => {
    if (off >= tab.length && !(off === 0 && tab.length === 0))
      throw new ElfError(`${what}: name offset ${off} is outside its string table`);
    let end = off;
    while (end < tab.length && tab[end] !== 0) end++;
    if (end >= tab.length && tab.length > 0) throw new ElfError(`${what}: name is not NUL-terminated`);
    return Buffer.from(tab.subarray(off, end)).toString('latin1');
  };
  const shstr = strtab(raw[shstrndx]);
  const sections: ElfSection[] = raw.map((s) => ({
    index: s.index,
    name: s.index === 0 ? '' : cstr(shstr, s.nameOff, `section ${s.index}`),
    type: s.type,
    flags: s.flags,
    size: s.size,
    addralign: s.addralign,
    entsize: s.entsize,
    link: s.link,
    info: s.info,
    data: s.type === SHT_NOBITS || s.index === 0 ? new Uint8Array(0) : bytes.subarray(s.offset, s.offset + s.size),
  }));
  const sectionByName = new Map<string, ElfSection>();
  for (const s of sections) if (s.index > 0 && !sectionByName.has(s.name)) sectionByName.set(s.name, s);

  const symtabs = raw.filter((s) => s.type === SHT_SYMTAB);
  if (symtabs.length > 1) throw new ElfError('more than one symbol table');
  const symbols: ElfSymbol[] = [];
  if (symtabs.length === 1) {
    const st = symtabs[0];
    if (st.link >= shnum) throw new ElfError(`the symbol table's string table (section ${st.link}) does not exist`);
    if (st.size % SYM_SIZE !== 0) throw new ElfError(`the symbol table's size ${st.size} is not a multiple of 24`);
    const names = strtab(raw[st.link]);
    for (let i = 0; i < st.size / SYM_SIZE; i++) {
      const at = st.offset + i * SYM_SIZE;
      const info = bytes[at + 4];
      const shndx = dv.getUint16(at + 6, true);
      const binding = BINDINGS[info >> 4];
      const symType = TYPES[info & 0xf];
      const name = cstr(names, dv.getUint32(at, true), `symbol ${i}`);
      if (binding === undefined) throw new ElfError(`symbol ${i} '${name}' has an unknown binding ${info >> 4}`);
      if (symType === undefined) throw new ElfError(`symbol ${i} '${name}' has an unknown type ${info & 0xf}`);
      const special = shndx === SHN_UNDEF || shndx === SHN_ABS || shndx === SHN_COMMON || shndx === SHN_LIVEPATCH;
      if (!special && (shndx >= shnum || shndx >= SHN_LORESERVE))
        throw new ElfError(`symbol ${i} '${name}' is in section ${shndx}, which does not exist`);
      const sym: ElfSymbol = {
        index: i,
        name,
        binding,
        type: symType,
        shndx,
        value: u64(at + 8, `symbol '${name}' st_value`),
        size: u64(at + 16, `symbol '${name}' st_size`),
      };
      if (!special && i > 0) sym.section = sections[shndx].name;
      symbols.push(sym);
    }
  }

  const relocations = new Map<number, ElfRelocation[]>();
  for (const s of raw) {
    if (s.type === SHT_REL) throw new ElfError(`section ${sections[s.index].name} holds SHT_REL relocations; x86-64 objects use SHT_RELA`);
    if (s.type !== SHT_RELA) continue;
    const name = sections[s.index].name;
    if (s.info === 0 || s.info >= shnum)
      throw new ElfError(`relocation section ${name} applies to section ${s.info}, which does not exist`);
    if (s.size % RELA_SIZE !== 0) throw new ElfError(`relocation section ${name}'s size ${s.size} is not a multiple of 24`);
    const target = sections[s.info];
    const list: ElfRelocation[] = [];
    for (let i = 0; i < s.size / RELA_SIZE; i++) {
      const at = s.offset + i * RELA_SIZE;
      const rel: ElfRelocation = {
        offset: u64(at, `${name} r_offset`),
        type: dv.getUint32(at + 8, true),
        symbol: dv.getUint32(at + 12, true),
        addend: Number(dv.getBigInt64(at + 16, true)),
      };
      if (rel.symbol >= symbols.length) throw new ElfError(`${name} entry ${i} refers to symbol ${rel.symbol}, which does not exist`);
      if (rel.offset + 4 > target.size)
        throw new ElfError(`${name} entry ${i} patches offset 0x${rel.offset.toString(16)}, outside ${target.name}`);
      list.push(rel);
    }
    relocations.set(s.info, [...(relocations.get(s.info) ?? []), ...list]);
  }
  return { file, sections, sectionByName, symbols, relocations };
}
