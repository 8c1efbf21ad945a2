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

export type OrcLookup = { entry: OrcEntry; fn: OrcFunction } | { entry: null; reason: string };

export class OrcTables {
  private readonly byAddr = new Map<number, OrcFunction>();

  constructor(
    private readonly km: KernelMemory,
    private readonly kallsyms: Kallsyms,
  ) {}

  /** objtool's result for the function at `addr` (which kallsyms names `name`, `size` bytes long). */
  function(addr: number, size: number, name: string): OrcFunction {
    let fn = this.byAddr.get(addr);
    if (!fn) {
      fn = analyseFunction(this.km.u8, addr, size, name);
      this.byAddr.set(addr, fn);
    }
    return fn;
  }

  /** The entry in force at `ip` (an exact pc: for a return address, pass the address of its call). */
  find(ip: number): OrcLookup {
    const sym = this.kallsyms.symbolAt(ip);
    if (!sym || (sym.kind !== KsymKind.Func && sym.kind !== KsymKind.FuncNotrace))
      return { entry: null, reason: `no ORC data for 0x${ip.toString(16)}` };
    const fn = this.function(sym.addr, sym.size, sym.name);
    if (fn.warning) return { entry: null, reason: `no ORC data for ${this.kallsyms.format(ip)} (objtool: ${fn.warning})` };
    const entry = orcEntryAt(fn, ip);
    return entry ? { entry, fn } : { entry: null, reason: `no ORC data for ${this.kallsyms.format(ip)} (unreachable instruction)` };
  }
}
