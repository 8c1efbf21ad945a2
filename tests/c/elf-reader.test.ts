/**
 * The ELF reader against binutils: every section, symbol and relocation of a gcc object as
 * `readelf -a -W` lists them; and the checks on objects that are not what a module loader takes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runGcc } from '../../src/c/gcc-driver';
import { kernelCflags } from '../../src/c/kernel-cflags';
import { ElfError, readElfObject } from '../../src/c/elf/elf-reader';
import { relocationName } from '../../src/c/elf/relocations';
import { SHN_ABS, SHN_COMMON, SHN_UNDEF } from '../../src/c/elf/elf-types';
import { includeDir } from '../../src/scenario/c-units';
import { describeWithGcc, HAVE_READELF } from './gcc-available';

const CORPUS = join(__dirname, 'fixtures', 'corpus.c');

function compileCorpus(framePointer: boolean): Uint8Array {
  const r = runGcc({
    source: readFileSync(CORPUS, 'utf8'),
    name: CORPUS,
    flags: kernelCflags({ framePointer, modname: 'corpus', module: true }),
    include: [includeDir()],
  });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.file}:${d.line}:${d.col}: ${d.message}`).join('\n'));
  return r.object;
}

const TYPE_NAMES: Record<number, string> = { 0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 8: 'NOBITS', 17: 'GROUP' };
const NDX = (shndx: number): string =>
  shndx === SHN_UNDEF ? 'UND' : shndx === SHN_ABS ? 'ABS' : shndx === SHN_COMMON ? 'COM' : String(shndx);

describeWithGcc('the ELF reader', () => {
  const bytes = compileCorpus(false);
  const dir = mkdtempSync(join(tmpdir(), 'klpsim-elf-'));
  const file = join(dir, 'corpus.o');
  writeFileSync(file, bytes);
  const elf = readElfObject(bytes, file);
  const readelf = HAVE_READELF ? spawnSync('readelf', ['-a', '-W', file], { encoding: 'utf8' }).stdout : '';
  const itReadelf = HAVE_READELF ? it : it.skip;

  itReadelf('reads every section as readelf lists it', () => {
    const rows = [
      ...readelf.matchAll(
        /^\s*\[\s*(\d+)\]\s+(\S*)\s+([A-Z_]+)\s+([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([A-Z]*)\s+(\d+)\s+(\d+)\s+(\d+)$/gm,
      ),
    ];
    expect(rows.length).toBe(elf.sections.length);
    for (const m of rows) {
      const s = elf.sections[Number(m[1])];
      expect([s.index, s.name, TYPE_NAMES[s.type] ?? s.type, s.size, s.entsize, s.link, s.info, s.addralign]).toEqual([
        Number(m[1]),
        m[2],
        m[3],
        parseInt(m[6], 16),
        parseInt(m[7], 16),
        Number(m[9]),
        Number(m[10]),
        Number(m[11]),
      ]);
      const flags =
        (s.flags & 1 ? 'W' : '') +
        (s.flags & 2 ? 'A' : '') +
        (s.flags & 4 ? 'X' : '') +
        (s.flags & 0x10 ? 'M' : '') +
        (s.flags & 0x20 ? 'S' : '') +
        (s.flags & 0x40 ? 'I' : '');
      expect(flags).toBe(m[8]);
    }
    // The kinds the loader must place are all there.
    for (const n of ['.text', '.data', '.bss', '.rodata', '.rodata.str1.1', '__mcount_loc', '.rela.text', '.rela__mcount_loc'])
      expect(elf.sectionByName.has(n)).toBe(true);
  });

  itReadelf('reads every symbol as readelf lists it (locals, globals, weak, undefined)', () => {
    const rows = [...readelf.matchAll(/^\s+(\d+): ([0-9a-f]{16})\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) ?(.*)$/gm)];
    expect(rows.length).toBe(elf.symbols.length);
    for (const m of rows) {
      const s = elf.symbols[Number(m[1])];
      expect([s.value, s.size, s.type.toUpperCase(), s.binding.toUpperCase(), NDX(s.shndx), s.name]).toEqual([
        parseInt(m[2], 16),
        Number(m[3]),
        m[4] === 'SECTION' ? 'SECTION' : m[4],
        m[5],
        m[6],
        m[4] === 'SECTION' ? '' : m[7],
      ]);
    }
    const by = (n: string) => elf.symbols.find((s) => s.name === n);
    expect(by('helper')).toMatchObject({ binding: 'local', type: 'func', section: '.text' });
    expect(by('weak_hook')).toMatchObject({ binding: 'weak', type: 'func' });
    expect(by('elsewhere')).toMatchObject({ binding: 'global', shndx: SHN_UNDEF });
    expect(by('zeroed')).toMatchObject({ type: 'object', section: '.bss' });
  });

  itReadelf('reads every relocation as readelf lists it', () => {
    const sections = readelf.split("Relocation section '").slice(1);
    expect(sections.length).toBe([...elf.relocations.keys()].length);
    for (const text of sections) {
      const name = text.slice(0, text.indexOf("'"));
      const target = elf.sectionByName.get(name.replace(/^\.rela/, '')) as NonNullable<ReturnType<typeof elf.sectionByName.get>>;
      const rels = elf.relocations.get(target.index) ?? [];
      const rows = [...text.matchAll(/^([0-9a-f]{16})\s+([0-9a-f]{16})\s+(R_X86_64_\w+)\s+[0-9a-f]{16}\s+(\S+) ([+-]) ([0-9a-f]+)$/gm)];
      expect(rows.length).toBe(rels.length);
      rows.forEach((m, i) => {
        const r = rels[i];
        const sym = elf.symbols[r.symbol];
        expect([r.offset, relocationName(r.type), sym.type === 'section' ? sym.section : sym.name, r.addend]).toEqual([
          parseInt(m[1], 16),
          m[3],
          m[4],
          (m[5] === '-' ? -1 : 1) * parseInt(m[6], 16),
        ]);
      });
    }
  });

  it('sees only the relocations of the small code model, non-PIC', () => {
    const kinds = new Set([...elf.relocations.values()].flat().map((r) => relocationName(r.type)));
    for (const k of kinds) expect(['R_X86_64_64', 'R_X86_64_32', 'R_X86_64_32S', 'R_X86_64_PC32', 'R_X86_64_PLT32']).toContain(k);
    expect(kinds.has('R_X86_64_PLT32')).toBe(true);
  });

  const bad = (patch: (b: Uint8Array) => Uint8Array): string => {
    try {
      readElfObject(patch(Uint8Array.from(bytes)), 'x.o');
    } catch (e) {
      if (e instanceof ElfError) return e.message;
      throw e;
    }
    return 'accepted';
  };
  it.each([
    ['not ELF', (b: Uint8Array) => ((b[0] = 0), b), /not an ELF file/],
    ['ELF32', (b: Uint8Array) => ((b[4] = 1), b), /not a 64-bit ELF file/],
    ['big-endian', (b: Uint8Array) => ((b[5] = 2), b), /not little-endian/],
    ['another machine', (b: Uint8Array) => ((b[18] = 183), (b[19] = 0), b), /not an x86-64 object \(e_machine 183/],
    ['an executable', (b: Uint8Array) => ((b[16] = 2), b), /not a relocatable object: e_type is ET_EXEC/],
    ['a shared object', (b: Uint8Array) => ((b[16] = 3), b), /ET_DYN/],
    ['truncated', (b: Uint8Array) => b.subarray(0, 200), /section header table lies beyond the end of the file/],
    ['a tiny file', (b: Uint8Array) => b.subarray(0, 20), /truncated ELF header/],
  ])('refuses %s with what is wrong', (_n, patch, msg) => {
    expect(bad(patch)).toMatch(msg);
  });
});
