/**
 * The ORC tables of every loaded object, as the unwinder looks them up (orc_find() in
 * arch/x86/kernel/unwind_orc.c): objtool's analysis of each function (objtool.ts), keyed by the function's
 * address.
 *
 * Each thread that unwinds (the coordinator, each CPU) keeps its own copy, filled on first use from the
 * code in kmem. That is the same table everywhere, and it never goes stale: text is written once at load
 * (addresses are never reused after an unload, see loader.ts), and the only bytes poked later, the ftrace
 * sites, do not enter the analysis. A function of an unloaded module has no symbol and so no entry.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { Kallsyms, KsymKind } from '../mem/kallsyms';
import { analyseFunction, OrcEntry, orcEntryAt, OrcFunction } from './objtool';

/** find()'s memo holds at most this many pcs (a kernel's worth of hot return addresses is far fewer). */
const MEMO_MAX = 1 << 16;

export type OrcLookup = { entry: OrcEntry; fn: OrcFunction } | { entry: null; reason: string };

/** gcc's name for a function's cold part: `F.cold`, or `F.cold.N` when there are several. */
const COLD = /^(.+)\.cold(?:\.\d+)?$/;

/** Whether kallsyms' `name` is a cold part, which objtool follows with its function, never on its own. */
export const isColdPart = (name: string): boolean => COLD.test(name);

export class OrcTables {
  private readonly byAddr = new Map<number, OrcFunction>();
  /**
   * find()'s answers by pc. The consistency check unwinds the caller's stack at every redirected call, so
   * the same few return addresses are looked up millions of times; a hit is one Map probe instead of a
   * kallsyms search, a cold-part name test and a search of the function's entries. An answer depends only
   * on kallsyms (text itself never changes under an entry, see above), so the memo is dropped whenever
   * its symbol count or generation moves — a load (a new symbol may now cover a pc that had none) or an
   * unload (a pc of the module's loses its entry).
   */
  private readonly memo = new Map<number, OrcLookup>();
  private memoCount = -1;
  private memoGen = -1;

  constructor(
    private readonly km: KernelMemory,
    private readonly kallsyms: Kallsyms,
  ) {}

  /** objtool's result for the function at `addr` (which kallsyms names `name`, `size` bytes long). */
  function(addr: number, size: number, name: string, object?: string): OrcFunction {
    let fn = this.byAddr.get(addr);
    if (!fn) {
      const cold = object === undefined ? undefined : this.coldPart(addr, name, object);
      fn = analyseFunction(this.km.u8, addr, size, name, cold && { addr: cold.addr, size: cold.size });
      this.byAddr.set(addr, fn);
    }
    return fn;
  }

  /**
   * gcc names the cold part after the function it split (`F.cold`), but kallsyms may call the function by
   * an alias at the same address — module_init()'s `init_module` for a module's `F` — so each name at
   * `addr` is tried.
   */
  private coldPart(addr: number, name: string, object: string): { addr: number; size: number } | undefined {
    const own = this.kallsyms.lookup(`${name}.cold`, object);
    if (own) return own;
    for (const alias of this.kallsyms.symbolsStartingAt(addr)) {
      if (alias.object !== object || alias.name === name) continue;
      const cold = this.kallsyms.lookup(`${alias.name}.cold`, object);
      if (cold) return cold;
    }
    return undefined;
  }

  /** The entry in force at `ip` (an exact pc: for a return address, pass the address of its call). */
  find(ip: number): OrcLookup {
    const count = this.kallsyms.count();
    const gen = this.kallsyms.generation();
    // (Also dropped when it grows past MEMO_MAX: stacks full of garbage must not grow it without bound.)
    if (count !== this.memoCount || gen !== this.memoGen || this.memo.size >= MEMO_MAX) {
      this.memo.clear();
      this.memoCount = count;
      this.memoGen = gen;
    }
    let l = this.memo.get(ip);
    if (l === undefined) {
      l = this.lookup(ip);
      this.memo.set(ip, l);
    }
    return l;
  }

  private lookup(ip: number): OrcLookup {
    const sym = this.kallsyms.symbolAt(ip);
    if (!sym || (sym.kind !== KsymKind.Func && sym.kind !== KsymKind.FuncNotrace))
      return { entry: null, reason: `no ORC data for 0x${ip.toString(16)}` };
    // An ip in gcc's cold part (`F.cold`) is F's: objtool follows the two as one function.
    const parent = COLD.exec(sym.name);
    const owner = parent ? this.kallsyms.lookup(parent[1], sym.object) : sym;
    if (!owner)
      return { entry: null, reason: `no ORC data for ${this.kallsyms.format(ip)} (no function ${parent?.[1]} for its cold part)` };
    const fn = this.function(owner.addr, owner.size, owner.name, owner.object);
    if (fn.warning) return { entry: null, reason: `no ORC data for ${this.kallsyms.format(ip)} (objtool: ${fn.warning})` };
    const entry = orcEntryAt(fn, ip);
    return entry ? { entry, fn } : { entry: null, reason: `no ORC data for ${this.kallsyms.format(ip)} (unreachable instruction)` };
  }
}
