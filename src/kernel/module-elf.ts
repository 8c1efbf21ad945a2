/**
 * What makes an ELF object a module, as kernel/module.c reads it (include/linux/module.h and
 * moduleparam.h lay it out): `.modinfo` ("license=GPL", "livepatch=Y", …), `__param` (one struct
 * kernel_param per module_param()), init_module / cleanup_module (the aliases module_init() and
 * module_exit() make), and `struct module __this_module`, which modpost's generated `.mod.c` defines
 * for a real module and which klpsim links into every module it loads (thisModuleObject()).
 */
import type { ElfObject, ElfSection, ElfSymbol } from '../c/elf/elf-types';
import { SHF_ALLOC, SHF_WRITE, SHT_PROGBITS } from '../c/elf/elf-types';
import type { KernelMemory } from '../mem/kernel-memory';
import type { Kallsyms } from '../mem/kallsyms';
import type { LoadedObject } from './loader';
import type { ParamType } from './module-params';
import type { ModuleState } from './modules';

/** enum module_state. */
export const MODULE_STATE_VALUE: Record<ModuleState | 'UNFORMED', number> = { LIVE: 0, COMING: 1, GOING: 2, UNFORMED: 3 };

/** struct module's head (module.h): state, list, name[MODULE_NAME_LEN]; the rest is klpsim's. */
export const STRUCT_MODULE = { size: 80, state: 0, name: 24, nameLen: 56 } as const;
/** struct kernel_param (moduleparam.h, x86-64). */
export const KERNEL_PARAM = { size: 40, name: 0, ops: 16, perm: 24, arg: 32 } as const;

export const THIS_MODULE_SECTION = '.gnu.linkonce.this_module';
const PARAM_SECTION = '__param';
const MODINFO_SECTION = '.modinfo';

/** The `param_ops_<type>` each parameter type's record points at (kernel/params.c). */
export const PARAM_OPS: Record<ParamType, string> = { int: 'param_ops_int', bool: 'param_ops_bool', charp: 'param_ops_charp' };

/** What thisModuleObject() defines, which a module's C may reference without defining. */
export const MODULE_LINKED_SYMBOLS: ReadonlySet<string> = new Set(['__this_module', ...Object.values(PARAM_OPS)]);

/** The tags of the objects' .modinfo sections, in order ("license" → ["GPL"]). */
export function modinfo(elfs: readonly ElfObject[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const elf of elfs) {
    const sec = elf.sectionByName.get(MODINFO_SECTION);
    if (!sec) continue;
    for (const entry of Buffer.from(sec.data).toString('utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const [tag, value] = [entry.slice(0, eq), entry.slice(eq + 1)];
      out.set(tag, [...(out.get(tag) ?? []), value]);
    }
  }
  return out;
}

/** check_modinfo_livepatch(): MODULE_INFO(livepatch, "Y") marks a livepatch module. */
export const isLivepatchModule = (info: Map<string, string[]>): boolean => (info.get('livepatch') ?? []).includes('Y');

const globalFunc = (elfs: readonly ElfObject[], name: string): boolean =>
  elfs.some((e) => e.symbols.some((s: ElfSymbol) => s.name === name && s.binding !== 'local' && s.shndx !== 0));

/** The module has a module_init() function (init_module) / a module_exit() one (cleanup_module). */
export const hasInit = (elfs: readonly ElfObject[]): boolean => globalFunc(elfs, 'init_module');
export const hasExit = (elfs: readonly ElfObject[]): boolean => globalFunc(elfs, 'cleanup_module');

/**
 * The object that defines `__this_module` for module `name`, as modpost's `.mod.c` does: a struct module
 * whose name is the module's, in state UNFORMED until the loader moves it.
 */
export function thisModuleObject(name: string): ElfObject {
  const data = new Uint8Array(STRUCT_MODULE.size);
  const dv = new DataView(data.buffer);
  dv.setInt32(STRUCT_MODULE.state, MODULE_STATE_VALUE.UNFORMED, true);
  data.set(Buffer.from(name.slice(0, STRUCT_MODULE.nameLen - 1), 'utf8'), STRUCT_MODULE.name);
  const nullSection: ElfSection = {
    index: 0,
    name: '',
    type: 0,
    flags: 0,
    size: 0,
    addralign: 0,
    entsize: 0,
    link: 0,
    info: 0,
    data: new Uint8Array(0),
  };
  const section: ElfSection = {
    index: 1,
    name: THIS_MODULE_SECTION,
    type: SHT_PROGBITS,
    flags: SHF_ALLOC | SHF_WRITE,
    size: STRUCT_MODULE.size,
    addralign: 8,
    entsize: 0,
    link: 0,
    info: 0,
    data,
  };
  const nullSym: ElfSymbol = { index: 0, name: '', binding: 'local', type: 'notype', shndx: 0, value: 0, size: 0 };
  const sym: ElfSymbol = {
    index: 1,
    name: '__this_module',
    binding: 'global',
    type: 'object',
    shndx: 1,
    section: THIS_MODULE_SECTION,
    value: 0,
    size: STRUCT_MODULE.size,
  };
  // kernel/params.c's param_ops_int, _bool, _charp, which module_param() records point at: linked in
  // with the module (klpsim's vmlinux may be all assembly), they tell the loader each parameter's type.
  const ops: ElfSection = { ...section, index: 2, name: '.rodata.param_ops', flags: SHF_ALLOC, size: 32 * 3, data: new Uint8Array(32 * 3) };
  const opsSyms: ElfSymbol[] = Object.values(PARAM_OPS).map((n, i) => ({
    index: 2 + i,
    name: n,
    binding: 'global',
    type: 'object',
    shndx: 2,
    section: ops.name,
    value: 32 * i,
    size: 32,
  }));
  return {
    file: `${name}.mod.o`,
    sections: [nullSection, section, ops],
    sectionByName: new Map([
      [THIS_MODULE_SECTION, section],
      [ops.name, ops],
    ]),
    symbols: [nullSym, sym, ...opsSyms],
    relocations: new Map(),
  };
}

/** Where the loaded module's struct module is. */
export function thisModuleAddr(loaded: LoadedObject): number | undefined {
  return loaded.symbols.get('__this_module')?.addr;
}

/** The loader moves the module through its states; code reading THIS_MODULE->state sees each. */
export function writeModuleState(km: KernelMemory, addr: number, state: ModuleState): void {
  km.dv.setInt32(addr + STRUCT_MODULE.state, MODULE_STATE_VALUE[state], true);
}

/** One module_param() of a loaded module: its name, type, sysfs mode and variable. */
export interface KernelParam {
  name: string;
  type: ParamType;
  perm: number;
  /** The address of the variable (`int`, `bool`, `char *`). */
  arg: number;
  /** The variable's value as the module was built (its C initialiser), as its sysfs file would show it. */
  initial: string;
}

/**
 * The loaded module's parameters, read from its relocated `__param` section (mod->kp). A record whose
 * ops are not one of klpsim's parameter types is an error naming it.
 */
export function kernelParams(km: KernelMemory, kallsyms: Kallsyms, loaded: LoadedObject): KernelParam[] | { error: string } {
  const out: KernelParam[] = [];
  for (const sec of loaded.sections.filter((s) => s.name === PARAM_SECTION)) {
    for (let at = sec.addr; at + KERNEL_PARAM.size <= sec.addr + sec.size; at += KERNEL_PARAM.size) {
      const name = km.readCString(km.readU64(at + KERNEL_PARAM.name), 64);
      const opsName = kallsyms.symbolAt(km.readU64(at + KERNEL_PARAM.ops))?.name;
      const type = (Object.keys(PARAM_OPS) as ParamType[]).find((t) => PARAM_OPS[t] === opsName);
      if (!type) return { error: `parameter '${name}' has ops '${opsName ?? '?'}': klpsim's parameters are int, bool and charp` };
      const arg = km.readU64(at + KERNEL_PARAM.arg);
      out.push({ name, type, perm: km.dv.getUint16(at + KERNEL_PARAM.perm, true), arg, initial: readParamVar(km, type, arg) });
    }
  }
  return out;
}

/** param_get_int / _bool / _charp of the variable at `arg`. */
export function readParamVar(km: KernelMemory, type: ParamType, arg: number): string {
  if (type === 'int') return String(km.dv.getInt32(arg, true));
  if (type === 'bool') return km.u8[arg] !== 0 ? 'Y' : 'N';
  const p = km.readU64(arg);
  return p === 0 ? '(null)' : km.readCString(p, 1024);
}
