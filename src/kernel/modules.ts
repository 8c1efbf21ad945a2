/**
 * Loaded modules (struct module, as far as livepatch and the shell see it): state, the modules that use
 * it, parameters. The code itself is loaded by KernelLoader; parameters are 64-bit data symbols of the module
 * that its code reads (`mov rax, [rip + param]`) and that /sys/module/M/parameters/K writes.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import { ParamType, parseParam } from './module-params';
import type { KernelVersion } from './kernel-version';
import { kmallocHost } from './core-services';

export type ModuleState = 'COMING' | 'LIVE' | 'GOING';

export const MODULE_STATE_TEXT: Record<ModuleState, string> = {
  LIVE: '[MODULE_STATE_LIVE] Normal state',
  COMING: '[MODULE_STATE_COMING] Full formed, running module_init',
  GOING: '[MODULE_STATE_GOING] Going away',
};

export interface Module {
  name: string;
  state: ModuleState;
  /**
   * Modules linked against this one (the kernel's source_list, filled by use_module()): each holds a
   * reference, so rmmod refuses this module while any is loaded. (A livepatch module's reference to
   * itself, taken by klp_enable_patch(), is the livepatch core's: see lsmod's `extraRefs`.)
   */
  holders: Set<string>;
  params: Map<string, string>;
  paramTypes: Map<string, ParamType>;
  livepatch: boolean;
  size: number;
  /**
   * A C module's parameters: the address of each module_param() variable (an `int`, a `bool` or a
   * `char *`), which setParam() writes as C stores it. Absent for a YAML module, whose parameters are
   * 64-bit data symbols.
   */
  paramVars?: Map<string, number>;
}

export class Modules {
  private readonly mods = new Map<string, Module>();

  constructor(
    private readonly km: KernelMemory,
    private readonly kallsyms: Kallsyms,
    /** The machine's release: a bool parameter is parsed with its kstrtobool(). */
    private readonly version: KernelVersion,
  ) {}

  get(name: string): Module | undefined {
    return this.mods.get(name);
  }

  isLoaded(name: string): boolean {
    return this.mods.has(name);
  }

  add(m: Module): void {
    this.mods.set(m.name, m);
  }

  remove(name: string): void {
    this.mods.delete(name);
  }

  all(): Module[] {
    return [...this.mods.values()];
  }

  /**
   * Sets a parameter as its type parses `text` (module-params.ts), and the 64-bit word behind the
   * parameter's symbol, which module code reads. Returns false, changing nothing, where the kernel's
   * parser would say -EINVAL.
   */
  setParam(mod: Module, key: string, text: string): boolean {
    const value = parseParam(mod.paramTypes.get(key) ?? 'charp', text, this.version);
    if (value === null) return false;
    mod.params.set(key, value);
    const cVar = mod.paramVars?.get(key);
    if (cVar !== undefined) {
      writeParamVar(this.km, mod.paramTypes.get(key) ?? 'charp', cVar, value);
      return true;
    }
    const sym = this.kallsyms.lookup(key, mod.name);
    if (sym) this.km.dv.setBigUint64(sym.addr, paramWord(value), true);
    return true;
  }

  /**
   * `lsmod`, newest first as the kernel lists modules, in kmod's format ("%-19s %8ld  %d", then the holders
   * comma-separated). `extraRefs` adds references held outside this registry (a livepatch module's own,
   * taken by klp_enable_patch()).
   */
  lsmod(extraRefs: (m: Module) => number = () => 0): string {
    const rows = [...this.mods.values()].reverse().map((m) => {
      const row = `${m.name.padEnd(19)} ${String(m.size).padStart(8)}  ${m.holders.size + extraRefs(m)}`;
      return m.holders.size > 0 ? `${row} ${[...m.holders].join(',')}` : row;
    });
    return ['Module                  Size  Used by', ...rows].join('\n') + '\n';
  }
}

/**
 * param_set_int / _bool / _charp into a C module's variable: an int's 4 bytes, a bool's one byte, a charp
 * a pointer to a copy of the text (kmalloc'ed, as param_set_charp() does for a value set after boot).
 */
function writeParamVar(km: KernelMemory, type: ParamType, addr: number, value: string): void {
  if (type === 'int') km.dv.setInt32(addr, Number(value), true);
  else if (type === 'bool') km.u8[addr] = value === 'Y' ? 1 : 0;
  else {
    const bytes = Buffer.from(value + '\0', 'utf8');
    const p = kmallocHost(km, bytes.length);
    if (p === 0) return;
    km.writeBytes(p, bytes);
    km.writeU64(addr, p);
  }
}

/** How a parameter's text is stored in its 64-bit word: integers as such, booleans as 0/1, else 0. */
export function paramWord(value: string): bigint {
  const v = value.trim();
  if (/^(y|Y|true)$/.test(v)) return 1n;
  if (/^(n|N|false)$/.test(v)) return 0n;
  return /^-?\d+$/.test(v) ? BigInt.asUintN(64, BigInt(v)) : /^0x[0-9a-f]+$/i.test(v) ? BigInt(v) : 0n;
}
