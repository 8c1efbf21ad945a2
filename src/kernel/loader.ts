/**
 * Builds vmlinux and loads modules into kmem: assembles each symbol's source, lays functions out in the
 * text region and data symbols in the data region, resolves relocations (own object first, then every
 * live kernel symbol, then the kernel services), writes the bytes, sets page permissions and publishes the
 * symbols in kallsyms — in that order, so a CPU that can find a symbol always finds its code complete
 * (kallsyms' Atomics.store of the count is the release; see src/mem/kallsyms.ts).
 *
 * Each object's text starts on a fresh page, so its pages' permissions are its own (text R+X, data R+W),
 * like module_alloc() + set_memory_ro()/set_memory_x(). Addresses are never reused after an unload, so a
 * stale pointer into an unloaded module faults instead of running someone else's code.
 *
 * Two kinds of link between objects, as the kernel has them:
 * - an ordinary reference to another module's symbol makes the module *use* that one (use_module():
 *   `uses`, a reference the used module's rmmod must respect);
 * - a livepatch module's code for a patched *module* refers to that module's symbols through klp
 *   relocations (`.klp.rela.<object>`): the target may not be loaded yet, and may come and go, so they are
 *   kept aside and written by klp_init_object_loaded() each time the target loads (writeKlpRelocs()).
 */
import { AsmError, AsmResult, assemble } from '../x86/assembler';
import type { RelocKind } from '../x86/asm/reloc';
import { PAGE_SIZE, PERM_R, PERM_W, PERM_X } from '../x86/cpu-types';
import type { KernelMemory } from '../mem/kernel-memory';
import { Kallsyms, KsymKind, KSYM_NAME_MAX, KSYMS_CAPACITY } from '../mem/kallsyms';
import { CALLABLE_SERVICES, SERVICE_NAMES, serviceAddr } from './services';
import type { ElfObject, ElfSymbol } from '../c/elf/elf-types';
import { SHN_ABS, SHN_COMMON, SHN_LIVEPATCH, SHN_UNDEF } from '../c/elf/elf-types';
import { MCOUNT_LOC, SectionClass, sectionClass } from '../c/elf/sections';
import { R_X86_64_64, R_X86_64_NONE, fitsRelocation, relocationName, relocationRule } from '../c/elf/relocations';

export interface SymbolSource {
  name: string;
  source: string;
  /**
   * Set on a livepatch module's code for a patched object other than vmlinux: its references to symbols
   * that are neither its module's own nor vmlinux's become klp relocations against this object.
   */
  klpObject?: string;
  /** Where the source text starts in its file, to map assembler positions back (1-based). */
  line?: number;
  col?: number;
}

/**
 * An ELF relocatable object (gcc's `.o`, or a `.ko`) linked into a loaded object next to its assembly
 * symbols: its allocated sections are placed, its symbols become the object's (globals resolve the other
 * parts' references, locals only its own), its relocations are applied and its `__mcount_loc` says which
 * functions have an ftrace site.
 */
export interface ObjectSource {
  elf: ElfObject;
  /** As SymbolSource.klpObject: unresolved references become klp relocations against this object. */
  klpObject?: string;
  /** Symbols given another name as they are linked (a livepatch's new function is `livepatch_<old>`). */
  rename?: Record<string, string>;
}

export interface LoadDiagnostic {
  symbol: string;
  /** Set when the problem is in an ELF object: the message is then about `file`, line and col are 0. */
  file?: string;
  line: number;
  col: number;
  message: string;
  /** Set when the problem is a reference no loaded object can satisfy (the module loader's -ENOENT). */
  unknownSymbol?: string;
}

export class LoadError extends Error {
  constructor(
    readonly object: string,
    readonly diagnostics: LoadDiagnostic[],
  ) {
    super(diagnostics.map((d) => `${d.line}:${d.col}: ${d.symbol}: ${d.message}`).join('\n'));
    this.name = 'LoadError';
  }
}

export interface LoadedSymbol {
  name: string;
  addr: number;
  size: number;
  kind: 'func' | 'data';
  /**
   * A function compiled `notrace` (or without -mrecord-mcount): no `__mcount_loc` entry, so no ftrace
   * site at its entry. kallsyms lists it, ftrace cannot attach to it, so it cannot be live patched.
   */
  notrace?: boolean;
}

/** Where one ELF section of the object landed (`.init.text`, `.modinfo`, `__param`, `.data..*`, …). */
export interface LoadedSection {
  name: string;
  /** The ELF file it came from. */
  file: string;
  addr: number;
  size: number;
}

/** A klp relocation: a field of a livepatch module's code that holds an address in `object`. */
export interface KlpReloc {
  object: string;
  symbol: string;
  kind: RelocKind;
  addend: number;
  /** Address of the field. */
  field: number;
}

export interface LoadedObject {
  name: string;
  symbols: Map<string, LoadedSymbol>;
  textStart: number;
  textEnd: number;
  dataStart: number;
  dataEnd: number;
  /** Other modules this one links against (use_module()): they cannot be removed while it is loaded. */
  uses: Set<string>;
  klpRelocs: KlpReloc[];
  /** The ELF sections placed in memory, in the order they were laid out. */
  sections: LoadedSection[];
}

/** Functions are 16-byte aligned as with -falign-functions=16; data 8-byte aligned. */
const FUNC_ALIGN = 16;
const DATA_ALIGN = 8;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

/** An ELF object being linked: where its sections and symbols landed. */
interface ElfLink {
  unit: ObjectSource;
  sectionAddr: Map<number, number>;
  symAddr: Map<number, number>;
}

export class KernelLoader {
  private textCursor: number;
  private dataCursor: number;
  readonly objects = new Map<string, LoadedObject>();
  /** Called after an object is loaded and published (the machine runs objtool's checks there). */
  onLoad?: (obj: LoadedObject) => void;

  constructor(
    private readonly km: KernelMemory,
    private readonly kallsyms: Kallsyms,
  ) {
    this.textCursor = km.layout.textBase;
    this.dataCursor = km.layout.dataBase;
  }

  /** Publishes the kernel services once, so they resolve and symbolise like functions. */
  registerServices(): void {
    for (const name of SERVICE_NAMES) {
      this.kallsyms.add({ name, addr: serviceAddr(name), size: 16, kind: KsymKind.Service, object: 'vmlinux' });
    }
  }

  /**
   * Loads an object: assembly symbols, ELF objects (`objects`) and `data`, initialised 64-bit data
   * symbols (module parameters: a module's code reads them as `mov rax, [rip + param]`). Its parts link
   * against each other (own symbols first). Throws LoadError with every problem found.
   */
  load(object: string, symbols: SymbolSource[], data: Record<string, number> = {}, objects: ObjectSource[] = []): LoadedObject {
    if (this.objects.has(object))
      throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: `object '${object}' is already loaded` }]);
    const diags: LoadDiagnostic[] = [];
    const assembled = new Map<string, AsmResult>();
    for (const s of symbols) {
      try {
        assembled.set(s.name, assemble(s.source, { ftraceSite: true }));
      } catch (e) {
        if (!(e instanceof AsmError)) throw e;
        for (const d of e.diagnostics) diags.push(this.mapPos(s, d.line, d.col, d.message));
      }
    }
    if (diags.length > 0) throw new LoadError(object, diags);

    // Lay out: functions in text, then the ELF objects' code, their read-only data on pages of its own;
    // data symbols, parameters and the ELF objects' data and .bss in data.
    let text = align(this.textCursor, PAGE_SIZE);
    let dataPos = align(this.dataCursor, PAGE_SIZE);
    const textStart = text;
    const dataStart = dataPos;
    const placed = new Map<string, LoadedSymbol>();
    for (const s of symbols) {
      const r = assembled.get(s.name) as AsmResult;
      if (r.kind === 'func') {
        text = align(text, FUNC_ALIGN);
        placed.set(s.name, { name: s.name, addr: text, size: r.bytes.length, kind: 'func' });
        text += r.bytes.length;
      } else {
        dataPos = align(dataPos, DATA_ALIGN);
        placed.set(s.name, { name: s.name, addr: dataPos, size: Math.max(r.bytes.length, 1), kind: 'data' });
        dataPos += Math.max(r.bytes.length, 1);
      }
    }
    for (const name of Object.keys(data)) {
      dataPos = align(dataPos, DATA_ALIGN);
      placed.set(name, { name, addr: dataPos, size: 8, kind: 'data' });
      dataPos += 8;
    }
    const links = objects.map((unit) => ({ unit, sectionAddr: new Map<number, number>(), symAddr: new Map<number, number>() }));
    const sections: LoadedSection[] = [];
    const placeClass = (cls: SectionClass, cursor: number): number => {
      for (const l of links) {
        for (const sec of l.unit.elf.sections) {
          if (sectionClass(sec) !== cls) continue;
          cursor = align(cursor, Math.max(sec.addralign, 1));
          l.sectionAddr.set(sec.index, cursor);
          sections.push({ name: sec.name, file: l.unit.elf.file, addr: cursor, size: sec.size });
          cursor += sec.size;
        }
      }
      return cursor;
    };
    text = placeClass('text', text);
    const rodataStart = align(text, PAGE_SIZE);
    text = placeClass('rodata', rodataStart);
    dataPos = placeClass('data', dataPos);
    dataPos = placeClass('bss', dataPos);
    // SHN_COMMON symbols (gcc -fcommon): .bss the loader allocates, st_value being their alignment.
    for (const l of links) {
      for (const sym of l.unit.elf.symbols) {
        if (sym.shndx !== SHN_COMMON) continue;
        dataPos = align(dataPos, Math.max(sym.value, 1));
        l.symAddr.set(sym.index, dataPos);
        dataPos += sym.size;
      }
    }
    const elfSymbols = this.elfSymbols(object, links, placed, diags);
    if (diags.length > 0) throw new LoadError(object, diags);

    if (text > this.km.layout.textEnd) throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: 'out of text memory' }]);
    // Checked before anything is written, so a refused load leaves the machine as it was.
    if (this.kallsyms.count() + placed.size + elfSymbols.length > KSYMS_CAPACITY)
      throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: 'out of kallsyms space' }]);
    const tooLong = [object, ...placed.keys(), ...elfSymbols.map((s) => s.name)].filter(
      (n) => Buffer.byteLength(n, 'utf8') > KSYM_NAME_MAX,
    );
    if (tooLong.length > 0)
      throw new LoadError(
        object,
        tooLong.map((n) => ({ symbol: n, line: 1, col: 1, message: `name longer than ${KSYM_NAME_MAX} bytes` })),
      );
    if (dataPos > this.km.layout.dataEnd) throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: 'out of data memory' }]);

    // Resolve relocations and write the bytes.
    const uses = new Set<string>();
    const klpRelocs: KlpReloc[] = [];
    for (const s of symbols) {
      const r = assembled.get(s.name) as AsmResult;
      const at = (placed.get(s.name) as LoadedSymbol).addr;
      const bytes = Uint8Array.from(r.bytes);
      for (const rel of r.relocs) {
        const target = this.resolve(object, rel.symbol, placed, s.klpObject);
        if (target === 'klp') {
          // Written when the patched object loads; until then nothing can run this code (its klp_func is
          // not on any func_stack), so the field may hold anything.
          klpRelocs.push({ object: s.klpObject as string, symbol: rel.symbol, kind: rel.kind, addend: rel.addend, field: at + rel.offset });
          continue;
        }
        if (target === undefined) {
          diags.push({ ...this.mapPos(s, rel.line, rel.col, `unknown symbol '${rel.symbol}'`), unknownSymbol: rel.symbol });
          continue;
        }
        if (target.object !== object && target.object !== 'vmlinux') uses.add(target.object);
        encodeReloc(bytes, rel.offset, rel, target.addr, at + rel.offset);
      }
      this.km.writeBytes(at, bytes);
    }
    const sites = new Set<number>();
    for (const l of links) this.linkElf(object, l, placed, uses, klpRelocs, sites, diags);
    if (diags.length > 0) throw new LoadError(object, diags);
    for (const [name, v] of Object.entries(data)) this.km.writeU64((placed.get(name) as LoadedSymbol).addr, v);
    // Only now is it known which functions __mcount_loc names: the others are notrace.
    for (const p of [...placed.values(), ...elfSymbols])
      if (p.kind === 'func' && p.notrace === false && !sites.has(p.addr)) p.notrace = true;
    for (const p of [...placed.values(), ...elfSymbols]) if (p.notrace === false) delete p.notrace;

    const textEnd = align(text, PAGE_SIZE);
    const dataEnd = align(dataPos, PAGE_SIZE);
    if (rodataStart > textStart) this.km.setPerms(textStart, rodataStart - textStart, PERM_R | PERM_X);
    if (textEnd > rodataStart) this.km.setPerms(rodataStart, textEnd - rodataStart, PERM_R);
    if (dataEnd > dataStart) this.km.setPerms(dataStart, dataEnd - dataStart, PERM_R | PERM_W);
    this.textCursor = textEnd;
    this.dataCursor = dataEnd;

    for (const p of [...placed.values(), ...elfSymbols.filter((e) => placed.get(e.name) !== e)]) {
      const kind = p.kind === 'data' ? KsymKind.Data : p.notrace ? KsymKind.FuncNotrace : KsymKind.Func;
      this.kallsyms.add({ name: p.name, addr: p.addr, size: p.size, kind, object });
    }
    for (const e of elfSymbols) if (!placed.has(e.name)) placed.set(e.name, e);
    const loaded: LoadedObject = { name: object, symbols: placed, textStart, textEnd, dataStart, dataEnd, uses, klpRelocs, sections };
    this.objects.set(object, loaded);
    this.onLoad?.(loaded);
    return loaded;
  }

  /**
   * The ELF objects' symbols: every function and data object they define (locals too: kallsyms lists
   * static functions, and livepatch finds them with sympos), with their addresses. Globals join `placed`,
   * where the other parts of the object resolve them; a weak definition gives way to a strong one.
   */
  private elfSymbols(object: string, links: ElfLink[], placed: Map<string, LoadedSymbol>, diags: LoadDiagnostic[]): LoadedSymbol[] {
    const out: LoadedSymbol[] = [];
    const weak = new Set<string>();
    for (const l of links) {
      const { elf } = l.unit;
      for (const sym of elf.symbols) {
        if (sym.index === 0) continue;
        let addr: number | undefined;
        if (sym.shndx === SHN_ABS) addr = sym.value;
        else if (sym.shndx === SHN_COMMON) addr = l.symAddr.get(sym.index);
        else if (sym.shndx !== SHN_UNDEF && sym.shndx !== SHN_LIVEPATCH) {
          const base = l.sectionAddr.get(sym.shndx);
          if (base !== undefined) addr = base + sym.value;
        }
        if (addr === undefined) continue;
        l.symAddr.set(sym.index, addr);
        if (sym.type === 'section' || sym.type === 'file' || sym.name === '' || sym.shndx === SHN_ABS) continue;
        const sec = sym.shndx === SHN_COMMON ? undefined : elf.sections[sym.shndx];
        const isFunc = sec !== undefined && sectionClass(sec) === 'text';
        // Assembler-local labels (.L…) are not symbols kallsyms would list.
        if (!isFunc && sym.type === 'notype' && sym.name.startsWith('.L')) continue;
        const name = l.unit.rename?.[sym.name] ?? sym.name;
        // notrace: false until __mcount_loc is read (load()).
        const ls: LoadedSymbol = { name, addr, size: sym.size, kind: isFunc ? 'func' : 'data', ...(isFunc ? { notrace: false } : {}) };
        out.push(ls);
        if (sym.binding === 'local') continue;
        const prev = placed.get(name);
        if (prev && !(weak.has(name) || sym.binding === 'weak')) {
          diags.push({ symbol: name, file: elf.file, line: 0, col: 0, message: `multiple definition of '${name}' in ${object}` });
          continue;
        }
        if (prev && sym.binding === 'weak') continue;
        if (sym.binding === 'weak') weak.add(name);
        else weak.delete(name);
        placed.set(name, ls);
      }
    }
    return out;
  }

  /**
   * Applies one ELF object's relocations (apply_relocate_add()) and writes its sections; collects the
   * ftrace sites its `__mcount_loc` lists.
   */
  private linkElf(
    object: string,
    l: ElfLink,
    placed: Map<string, LoadedSymbol>,
    uses: Set<string>,
    klpRelocs: KlpReloc[],
    sites: Set<number>,
    diags: LoadDiagnostic[],
  ): void {
    const { elf } = l.unit;
    const diag = (message: string, unknownSymbol?: string): void => {
      diags.push({ symbol: object, file: elf.file, line: 0, col: 0, message, ...(unknownSymbol ? { unknownSymbol } : {}) });
    };
    // The address a symbol stands for, or 'klp' (written when the patched object loads), or undefined.
    const symbolValue = (sym: ElfSymbol): number | 'klp' | undefined => {
      const own = l.symAddr.get(sym.index);
      if (own !== undefined && (sym.binding === 'local' || sym.type === 'section')) return own;
      const name = l.unit.rename?.[sym.name] ?? sym.name;
      const klpSym = /^\.klp\.sym\.([A-Za-z0-9_]+)\.(.+),\d+$/.exec(sym.name);
      if (klpSym) return klpSym[1] === 'vmlinux' ? this.resolveVmlinux(klpSym[2]) : 'klp';
      const target = this.resolve(object, name, placed, l.unit.klpObject);
      if (target === 'klp' || target === undefined) return target;
      if (target.object !== object && target.object !== 'vmlinux') uses.add(target.object);
      return target.addr;
    };
    for (const sec of elf.sections) {
      const rels = elf.relocations.get(sec.index) ?? [];
      const isMcount = sec.name === MCOUNT_LOC;
      const base = l.sectionAddr.get(sec.index);
      if (base === undefined && !isMcount) continue;
      const bytes = Uint8Array.from(sec.data);
      const dv = new DataView(bytes.buffer);
      for (const rel of rels) {
        if (rel.type === R_X86_64_NONE) continue;
        const rule = relocationRule(rel.type);
        const sym = elf.symbols[rel.symbol];
        const where = `${sec.name}+0x${rel.offset.toString(16)}`;
        if (!rule) {
          diag(`unsupported relocation ${relocationName(rel.type)} at ${where} (klpsim links R_X86_64_64, 32, 32S, PC32 and PLT32)`);
          continue;
        }
        if (rel.offset + rule.bytes > bytes.length) {
          diag(`relocation at ${where} runs past the end of ${sec.name}`);
          continue;
        }
        const value = symbolValue(sym);
        const symName = sym.type === 'section' ? (sym.section ?? '?') : sym.name;
        if (value === 'klp') {
          const klpSym = /^\.klp\.sym\.([A-Za-z0-9_]+)\.(.+),\d+$/.exec(sym.name);
          const kind = rule.bytes === 8 ? 'abs64' : rule.pcRelative ? 'rel32' : 'abs32';
          klpRelocs.push({
            object: klpSym ? klpSym[1] : (l.unit.klpObject as string),
            symbol: klpSym ? klpSym[2] : symName,
            kind,
            addend: rel.addend,
            field: (base ?? 0) + rel.offset,
          });
          continue;
        }
        let s = value;
        if (s === undefined) {
          // An undefined weak reference is NULL (simplify_symbols(): "Ok if weak").
          if (sym.binding !== 'weak') {
            diag(`unknown symbol '${symName}'`, symName);
            continue;
          }
          s = 0;
        }
        if (isMcount) {
          if (rel.type === R_X86_64_64) sites.add(s + rel.addend);
          continue;
        }
        const field = (base as number) + rel.offset;
        const v = rule.pcRelative ? s + rel.addend - field : s + rel.addend;
        if (!fitsRelocation(rule, v)) {
          diag(`overflow in relocation ${relocationName(rel.type)} at ${where} against '${symName}': 0x${v.toString(16)}`);
          continue;
        }
        if (rule.bytes === 8) {
          dv.setUint32(rel.offset, v >>> 0, true);
          dv.setUint32(rel.offset + 4, Math.floor(v / 2 ** 32) >>> 0, true);
        } else dv.setInt32(rel.offset, v | 0, true);
      }
      if (base !== undefined && bytes.length > 0) this.km.writeBytes(base, bytes);
    }
  }

  private resolveVmlinux(name: string): number | undefined {
    const vmlinux = this.kallsyms.lookupAll(name, 'vmlinux').filter((k) => k.kind !== KsymKind.Service);
    return vmlinux.length === 1 ? vmlinux[0].addr : undefined;
  }

  /**
   * Unloads a module: its symbols leave kallsyms first (nobody can newly find them), then its pages lose
   * every permission, so a CPU still holding a pointer into it faults. The caller must have made sure no
   * task is inside it and sent a sync-core IPI for decoded copies (free_module's synchronisation).
   */
  unload(object: string): void {
    const o = this.objects.get(object);
    if (!o) return;
    this.kallsyms.removeObject(object);
    if (o.textEnd > o.textStart) this.km.setPerms(o.textStart, o.textEnd - o.textStart, 0);
    if (o.dataEnd > o.dataStart) this.km.setPerms(o.dataStart, o.dataEnd - o.dataStart, 0);
    this.objects.delete(object);
  }

  /**
   * Writes the klp relocations `mod` holds against `object`, which has just been loaded (the kernel's
   * klp_write_object_relocations(), from klp_init_object_loaded()); each load of the object rewrites them,
   * since it lands at new addresses. The code they patch cannot be running or cached: it became unreachable
   * when the object's previous copy went (free_module()'s sync-core IPI dropped every decoded copy), and
   * stays so until the object is patched again, after this. Returns the first symbol `object` lacks.
   */
  writeKlpRelocs(mod: string, object: string): string | null {
    for (const r of this.objects.get(mod)?.klpRelocs ?? []) {
      if (r.object !== object) continue;
      const sym = this.kallsyms.lookupAll(r.symbol, object).find((k) => k.kind !== KsymKind.Service);
      if (!sym) return r.symbol;
      const field = new Uint8Array(r.kind === 'abs64' ? 8 : 4);
      encodeReloc(field, 0, r, sym.addr, r.field);
      this.km.writeBytes(r.field, field);
    }
    return null;
  }

  /**
   * Own object first, then the kernel services, then vmlinux; then, for a livepatch's code of a patched
   * module, a klp relocation against that module; otherwise the one other module that defines the name.
   */
  private resolve(
    object: string,
    name: string,
    placed: Map<string, LoadedSymbol>,
    klpObject: string | undefined,
  ): { addr: number; object: string } | 'klp' | undefined {
    const own = placed.get(name);
    if (own) return { addr: own.addr, object };
    if ((CALLABLE_SERVICES as readonly string[]).includes(name))
      return { addr: serviceAddr(name as (typeof CALLABLE_SERVICES)[number]), object: 'vmlinux' };
    const all = this.kallsyms.lookupAll(name);
    const vmlinux = all.filter((s) => s.object === 'vmlinux');
    if (vmlinux.length === 1) return { addr: vmlinux[0].addr, object: 'vmlinux' };
    if (klpObject !== undefined && klpObject !== 'vmlinux') return 'klp';
    if (all.length === 1 && all[0].object !== object) return { addr: all[0].addr, object: all[0].object };
    return undefined;
  }

  private mapPos(s: SymbolSource, line: number, col: number, message: string): LoadDiagnostic {
    // Positions inside a block map to the file: the block's first line is `s.line`.
    const baseLine = s.line ?? 1;
    return { symbol: s.name, line: baseLine + line - 1, col: line === 1 ? (s.col ?? 1) + col - 1 : col, message };
  }
}

/**
 * Writes a relocation's value for symbol address `target` into its little-endian field at `bytes[offset]`,
 * the field living at address `fieldAddr`: rel32 is S + A - P, abs32/abs64 are S + A; 64-bit for abs64,
 * else 32-bit.
 */
function encodeReloc(bytes: Uint8Array, offset: number, rel: { kind: RelocKind; addend: number }, target: number, fieldAddr: number): void {
  const value = rel.kind === 'rel32' ? target + rel.addend - fieldAddr : target + rel.addend;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (rel.kind === 'abs64') {
    dv.setUint32(offset, value >>> 0, true);
    dv.setUint32(offset + 4, Math.floor(value / 2 ** 32) >>> 0, true);
  } else {
    dv.setInt32(offset, value | 0, true);
  }
}
