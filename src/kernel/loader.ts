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

export interface LoadDiagnostic {
  symbol: string;
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
}

/** Functions are 16-byte aligned as with -falign-functions=16; data 8-byte aligned. */
const FUNC_ALIGN = 16;
const DATA_ALIGN = 8;

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

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
   * Loads an object. `data` adds initialised 64-bit data symbols (module parameters: a module's code
   * reads them as `mov rax, [rip + param]`). Throws LoadError with every problem found.
   */
  load(object: string, symbols: SymbolSource[], data: Record<string, number> = {}): LoadedObject {
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

    // Lay out: functions in text, data symbols and parameters in data.
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
    if (text > this.km.layout.textEnd) throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: 'out of text memory' }]);
    // Checked before anything is written, so a refused load leaves the machine as it was.
    if (this.kallsyms.count() + placed.size > KSYMS_CAPACITY)
      throw new LoadError(object, [{ symbol: object, line: 1, col: 1, message: 'out of kallsyms space' }]);
    const tooLong = [object, ...placed.keys()].filter((n) => Buffer.byteLength(n, 'utf8') > KSYM_NAME_MAX);
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
    if (diags.length > 0) throw new LoadError(object, diags);
    for (const [name, v] of Object.entries(data)) this.km.writeU64((placed.get(name) as LoadedSymbol).addr, v);

    const textEnd = align(text, PAGE_SIZE);
    const dataEnd = align(dataPos, PAGE_SIZE);
    if (textEnd > textStart) this.km.setPerms(textStart, textEnd - textStart, PERM_R | PERM_X);
    if (dataEnd > dataStart) this.km.setPerms(dataStart, dataEnd - dataStart, PERM_R | PERM_W);
    this.textCursor = textEnd;
    this.dataCursor = dataEnd;

    for (const p of placed.values()) {
      this.kallsyms.add({ name: p.name, addr: p.addr, size: p.size, kind: p.kind === 'func' ? KsymKind.Func : KsymKind.Data, object });
    }
    const loaded: LoadedObject = { name: object, symbols: placed, textStart, textEnd, dataStart, dataEnd, uses, klpRelocs };
    this.objects.set(object, loaded);
    this.onLoad?.(loaded);
    return loaded;
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
