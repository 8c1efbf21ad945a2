/**
 * The kernel symbol table (kallsyms) in kmem: name, address, size, owning object, for vmlinux, kernel
 * services and every loaded module. It is what `call FUNC` resolves against, what the stack walker names
 * frames with, and what klp_find_object_symbol() searches (with sympos for duplicate names).
 *
 * Layout: record 0 is a header {count, generation}; records 1..count follow, KSYM_RECORD bytes each:
 *   +0 addr  +4 size  +8 kind  +12 live  +16 name[56]  +72 object[56]
 * Only the coordinator writes. It fills a record, then publishes it with Atomics.store(count) (a release:
 * a reader that Atomics.load's the count sees complete records below it). Unloading a module clears `live`
 * and bumps `generation`, which readers use to invalidate their private index.
 */
import { KSYM_RECORD, MAX_KSYMS } from './layout';
import type { KernelMemory } from './kernel-memory';

export const enum KsymKind {
  Func = 1,
  Data = 2,
  Service = 3,
  /** A function without an ftrace site (notrace): listed, but ftrace (and so livepatch) cannot attach to it. */
  FuncNotrace = 4,
}

export interface Ksym {
  index: number;
  name: string;
  addr: number;
  size: number;
  kind: KsymKind;
  /** 'vmlinux' or a module name. */
  object: string;
  live: boolean;
}

const NAME_OFF = 16;
const OBJ_OFF = 72;
const STR_LEN = 56;
/** The longest symbol or object name a record holds, in UTF-8 bytes (the kernel's MODULE_NAME_LEN - 1). */
export const KSYM_NAME_MAX = STR_LEN - 1;
/** Symbols the table holds: every record but the header. */
export const KSYMS_CAPACITY = MAX_KSYMS - 1;

export class Kallsyms {
  private cache: Ksym[] = [];
  private cacheGen = -1;
  private cacheCount = -1;
  private sortedLive: Ksym[] = [];
  /** Live symbols by name: lookups are per call and per relocation, and a table may hold 100 000. */
  private byName = new Map<string, Ksym[]>();

  constructor(private readonly km: KernelMemory) {}

  private get hdr32(): number {
    return this.km.layout.ksymsBase >>> 2;
  }

  count(): number {
    return Atomics.load(this.km.i32, this.hdr32);
  }

  generation(): number {
    return Atomics.load(this.km.i32, this.hdr32 + 1);
  }

  /** Coordinator only. */
  add(sym: Omit<Ksym, 'index' | 'live'>): number {
    const n = this.count();
    if (n + 1 >= MAX_KSYMS) throw new Error(`kallsyms: table full (${MAX_KSYMS} symbols)`);
    const index = n + 1;
    const rec = this.km.layout.ksymsBase + index * KSYM_RECORD;
    const dv = this.km.dv;
    dv.setUint32(rec, sym.addr, true);
    dv.setUint32(rec + 4, sym.size, true);
    dv.setUint32(rec + 8, sym.kind, true);
    dv.setUint32(rec + 12, 1, true);
    this.writeStr(rec + NAME_OFF, sym.name);
    this.writeStr(rec + OBJ_OFF, sym.object);
    Atomics.store(this.km.i32, this.hdr32, index);
    return index;
  }

  /** Coordinator only: a module went away. */
  removeObject(object: string): void {
    for (const s of this.all()) {
      if (s.object === object && s.live) {
        Atomics.store(this.km.i32, (this.km.layout.ksymsBase + s.index * KSYM_RECORD + 12) >>> 2, 0);
      }
    }
    Atomics.add(this.km.i32, this.hdr32 + 1, 1);
  }

  all(): readonly Ksym[] {
    const count = this.count();
    const gen = this.generation();
    if (count === this.cacheCount && gen === this.cacheGen) return this.cache;
    if (gen === this.cacheGen && count > this.cacheCount) {
      // The table is append-only between unloads: index only the records published since.
      this.index(this.cacheCount + 1, count);
      this.cacheCount = count;
      return this.cache;
    }
    // An unload cleared `live` bits somewhere below the count: start over.
    this.cache = [];
    this.sortedLive = [];
    this.byName = new Map();
    this.index(1, count);
    this.cacheCount = count;
    this.cacheGen = gen;
    return this.cache;
  }

  /** Adds records first..last to the private index. */
  private index(first: number, last: number): void {
    const sorted = this.sortedLive;
    let inOrder = true;
    for (let index = first; index <= last; index++) {
      const rec = this.km.layout.ksymsBase + index * KSYM_RECORD;
      const s: Ksym = {
        index,
        addr: this.km.dv.getUint32(rec, true),
        size: this.km.dv.getUint32(rec + 4, true),
        kind: this.km.dv.getUint32(rec + 8, true),
        live: Atomics.load(this.km.i32, (rec + 12) >>> 2) === 1,
        name: this.km.readCString(rec + NAME_OFF, STR_LEN),
        object: this.km.readCString(rec + OBJ_OFF, STR_LEN),
      };
      this.cache.push(s);
      if (!s.live) continue;
      if (sorted.length > 0 && sorted[sorted.length - 1].addr > s.addr) inOrder = false;
      sorted.push(s);
      const same = this.byName.get(s.name);
      if (same) same.push(s);
      else this.byName.set(s.name, [s]);
    }
    // Stable, so symbols at one address keep their table order (symbolAt() picks the last of them).
    if (!inOrder) sorted.sort((a, b) => a.addr - b.addr);
  }

  /**
   * Looks a symbol up by name, as kallsyms_lookup_name() / klp_find_object_symbol() do: `object`
   * restricts the search ('vmlinux' or a module), `sympos` picks the N-th of several same-named symbols
   * (1-based; 0 means "must be unique").
   */
  lookup(name: string, object?: string, sympos = 0): Ksym | undefined {
    // A task's `call:` resolves its function at every call: a map probe on the index, no copy of the
    // matches (the index is rebuilt only when the published count or the generation moved).
    this.all();
    const same = this.byName.get(name);
    if (same === undefined) return undefined;
    if (object === undefined) {
      // sympos 0: the name must be unique (an ambiguous name resolves to nothing, as in the kernel).
      if (sympos === 0) return same.length === 1 ? same[0] : undefined;
      return same[sympos - 1];
    }
    let seen = 0;
    let found: Ksym | undefined;
    for (const s of same) {
      if (s.object !== object) continue;
      seen++;
      if (sympos === 0) found = s;
      else if (seen === sympos) return s;
    }
    return sympos === 0 && seen === 1 ? found : undefined;
  }

  /** All live symbols with this name (for ambiguity errors). */
  lookupAll(name: string, object?: string): Ksym[] {
    this.all();
    const same = this.byName.get(name) ?? [];
    return object === undefined ? [...same] : same.filter((s) => s.object === object);
  }

  /** The symbol containing `addr` (sprint_symbol without the offset). */
  symbolAt(addr: number): Ksym | undefined {
    this.all();
    const arr = this.sortedLive;
    let lo = 0;
    let hi = arr.length - 1;
    let best: Ksym | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid].addr <= addr) {
        best = arr[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return best && addr < best.addr + Math.max(best.size, 1) ? best : undefined;
  }

  /** The live traceable functions: each starts with an ftrace site (an __mcount_loc entry). */
  ftraceSites(): Ksym[] {
    return this.all().filter((s) => s.live && s.kind === KsymKind.Func);
  }

  /** The live symbols that start exactly at `addr` (aliases: `init_module` and the module's init function). */
  symbolsStartingAt(addr: number): Ksym[] {
    this.all();
    const arr = this.sortedLive;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (arr[mid].addr < addr) lo = mid + 1;
      else hi = mid;
    }
    const out: Ksym[] = [];
    for (let i = lo; i < arr.length && arr[i].addr === addr; i++) out.push(arr[i]);
    return out;
  }

  /** "func+0x12/0x40 [module]" as the kernel prints a symbolised address. */
  format(addr: number): string {
    const s = this.symbolAt(addr);
    if (!s) return `0x${addr.toString(16)}`;
    const mod = s.object === 'vmlinux' ? '' : ` [${s.object}]`;
    return `${s.name}+0x${(addr - s.addr).toString(16)}/0x${s.size.toString(16)}${mod}`;
  }

  private writeStr(at: number, s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length >= STR_LEN) throw new Error(`kallsyms: name too long: ${s}`);
    this.km.u8.fill(0, at, at + STR_LEN);
    this.km.u8.set(b, at);
  }
}
