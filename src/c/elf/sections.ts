/**
 * Which memory each section of a relocatable object goes to, as the module loader's layout_sections()
 * sorts them: code (R+X), read-only data (R), writable data and .bss (R+W); sections without SHF_ALLOC
 * (symbol and string tables, .comment, debug info) are not loaded. `__mcount_loc` is allocated in the
 * kernel only to be read once at load (ftrace_module_init()), so here it is read, never placed.
 */
import { ElfSection, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS } from './elf-types';

export type SectionClass = 'text' | 'rodata' | 'data' | 'bss';

/** The section listing a module's ftrace sites (gcc -mrecord-mcount): one 64-bit address per site. */
export const MCOUNT_LOC = '__mcount_loc';

export function sectionClass(s: ElfSection): SectionClass | null {
  if (s.index === 0 || (s.flags & SHF_ALLOC) === 0 || s.name === MCOUNT_LOC) return null;
  if ((s.flags & SHF_EXECINSTR) !== 0) return 'text';
  if ((s.flags & SHF_WRITE) === 0) return 'rodata';
  return s.type === SHT_NOBITS ? 'bss' : 'data';
}
