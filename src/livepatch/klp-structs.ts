/**
 * `struct klp_patch`, `klp_object`, `klp_func` and `klp_callbacks` as a C livepatch module lays them out
 * in emulated memory (include/linux/livepatch.h, x86-64 LP64), read the way klp_enable_patch() walks
 * them: the objects up to the first with neither funcs nor a name (klp_for_each_object_static()), each
 * object's funcs up to the first with no old_name, new_func or old_sympos (klp_for_each_func_static()).
 * The offsets are checked against gcc's own layout of the header in tests/c/klp-structs.test.ts.
 *
 * The kernel dereferences whatever pointer the module hands it (a bad one is an oops inside
 * klp_enable_patch()); klpsim reads only mapped, readable memory and refuses the patch otherwise, so a
 * module's bad pointer cannot read the simulator's own host-only regions.
 */
import type { KernelMemory } from '../mem/kernel-memory';
import { PERM_R } from '../mem/kernel-memory';

/** Field offsets and sizes, in bytes. */
export const KLP_FUNC_LAYOUT = { size: 24, old_name: 0, new_func: 8, old_sympos: 16 } as const;
export const KLP_CALLBACKS_LAYOUT = { size: 40, pre_patch: 0, post_patch: 8, pre_unpatch: 16, post_unpatch: 24 } as const;
export const KLP_OBJECT_LAYOUT = { size: 64, name: 0, funcs: 8, callbacks: 16, mod: 56 } as const;
export const KLP_STATE_LAYOUT = { size: 24, id: 0, version: 8, data: 16 } as const;
export const KLP_PATCH_LAYOUT = { size: 32, mod: 0, objs: 8, states: 16, replace: 24 } as const;
/** The head of `struct module` (include/linux/module.h): state, list, name[MODULE_NAME_LEN]. */
export const MODULE_LAYOUT = { size: 80, state: 0, list: 8, name: 24, nameLen: 56 } as const;

/** KSYM_NAME_LEN: klp_init_func() refuses a longer old_name. */
export const KSYM_NAME_LEN = 512;

/** Guards against a list with no terminator running through memory for ever. */
const MAX_ENTRIES = 65536;

export interface KlpFuncImage {
  old_name: string;
  /** The replacement's address (a text symbol of the patch module, looked up by address as the kernel does). */
  new_func: number;
  old_sympos: number;
}

export interface KlpCallbacksImage {
  pre_patch: number;
  post_patch: number;
  pre_unpatch: number;
  post_unpatch: number;
}

export interface KlpObjectImage {
  /** Where the struct klp_object is: callbacks get this pointer, and the core writes its `mod` field. */
  addr: number;
  /** null: vmlinux. */
  name: string | null;
  funcs: KlpFuncImage[];
  callbacks: KlpCallbacksImage;
}

export interface KlpStateImage {
  id: number;
  version: number;
  /** Where the struct klp_state is: klp_get_prev_state() returns this pointer. */
  addr: number;
}

export interface KlpPatchImage {
  addr: number;
  /** patch->mod: the address of the livepatch module's struct module (0 if the module left it NULL). */
  mod: number;
  replace: boolean;
  objs: KlpObjectImage[];
  states: KlpStateImage[];
}

/** Why a structure could not be read: the kernel would return -EINVAL (or oops on a wild pointer). */
export class KlpStructError extends Error {}

class Reader {
  constructor(private readonly km: KernelMemory) {}

  /** Throws unless [addr, addr+len) is mapped readable for emulated code. */
  check(addr: number, len: number, what: string): void {
    if (addr <= 0 || addr + len > this.km.u8.length) throw new KlpStructError(`${what} at 0x${addr.toString(16)} is not mapped`);
    for (let p = addr; p < addr + len; p = (Math.floor(p / 4096) + 1) * 4096)
      if ((this.km.permsAt(p) & PERM_R) === 0) throw new KlpStructError(`${what} at 0x${addr.toString(16)} is not readable`);
    if ((this.km.permsAt(addr + len - 1) & PERM_R) === 0) throw new KlpStructError(`${what} at 0x${addr.toString(16)} is not readable`);
  }

  ptr(addr: number, what: string): number {
    this.check(addr, 8, what);
    return this.km.readU64(addr);
  }

  u32(addr: number, what: string): number {
    this.check(addr, 4, what);
    return this.km.dv.getUint32(addr, true);
  }

  u8(addr: number, what: string): number {
    this.check(addr, 1, what);
    return this.km.u8[addr];
  }

  /** A NUL-terminated string of at most max - 1 bytes, all of it readable. */
  str(addr: number, max: number, what: string): string {
    this.check(addr, 1, what);
    let end = addr;
    while (this.km.u8[end] !== 0) {
      end++;
      if (end - addr >= max) throw new KlpStructError(`${what} is longer than ${max - 1} bytes`);
      this.check(end, 1, what);
    }
    return this.km.readCString(addr, max);
  }
}

function readFuncs(r: Reader, base: number, objName: string): KlpFuncImage[] {
  const funcs: KlpFuncImage[] = [];
  for (let i = 0; ; i++) {
    if (i >= MAX_ENTRIES) throw new KlpStructError(`the funcs of object '${objName}' have no terminating entry`);
    const at = base + i * KLP_FUNC_LAYOUT.size;
    const namePtr = r.ptr(at + KLP_FUNC_LAYOUT.old_name, 'klp_func.old_name');
    const newFunc = r.ptr(at + KLP_FUNC_LAYOUT.new_func, 'klp_func.new_func');
    const sympos = r.ptr(at + KLP_FUNC_LAYOUT.old_sympos, 'klp_func.old_sympos');
    if (namePtr === 0 && newFunc === 0 && sympos === 0) return funcs;
    // klp_init_func(): a func needs its old_name; a missing new_func is only a NOP's (the core's own).
    if (namePtr === 0) throw new KlpStructError(`a func of object '${objName}' has no old_name`);
    const old_name = r.str(namePtr, KSYM_NAME_LEN, 'klp_func.old_name');
    if (newFunc === 0) throw new KlpStructError(`func '${old_name}' of object '${objName}' has no new_func`);
    funcs.push({ old_name, new_func: newFunc, old_sympos: sympos });
  }
}

/** Reads the patch at `addr` as klp_enable_patch() would walk it. Throws KlpStructError. */
export function readKlpPatch(km: KernelMemory, addr: number): KlpPatchImage {
  const r = new Reader(km);
  r.check(addr, KLP_PATCH_LAYOUT.size, 'struct klp_patch');
  const mod = r.ptr(addr + KLP_PATCH_LAYOUT.mod, 'klp_patch.mod');
  const objsAt = r.ptr(addr + KLP_PATCH_LAYOUT.objs, 'klp_patch.objs');
  const statesAt = r.ptr(addr + KLP_PATCH_LAYOUT.states, 'klp_patch.states');
  const replace = r.u8(addr + KLP_PATCH_LAYOUT.replace, 'klp_patch.replace') !== 0;
  if (objsAt === 0) throw new KlpStructError('klp_patch.objs is NULL');
  const objs: KlpObjectImage[] = [];
  for (let i = 0; ; i++) {
    if (i >= MAX_ENTRIES) throw new KlpStructError('the objects of the patch have no terminating entry');
    const at = objsAt + i * KLP_OBJECT_LAYOUT.size;
    const namePtr = r.ptr(at + KLP_OBJECT_LAYOUT.name, 'klp_object.name');
    const funcsAt = r.ptr(at + KLP_OBJECT_LAYOUT.funcs, 'klp_object.funcs');
    if (namePtr === 0 && funcsAt === 0) break;
    const name = namePtr === 0 ? null : r.str(namePtr, MODULE_LAYOUT.nameLen, 'klp_object.name');
    // klp_init_patch_early(): every object must have its funcs array (it may hold only the terminator).
    if (funcsAt === 0) throw new KlpStructError(`object '${name ?? 'vmlinux'}' has no funcs`);
    const cb = at + KLP_OBJECT_LAYOUT.callbacks;
    objs.push({
      addr: at,
      name,
      funcs: readFuncs(r, funcsAt, name ?? 'vmlinux'),
      callbacks: {
        pre_patch: r.ptr(cb + KLP_CALLBACKS_LAYOUT.pre_patch, 'klp_callbacks.pre_patch'),
        post_patch: r.ptr(cb + KLP_CALLBACKS_LAYOUT.post_patch, 'klp_callbacks.post_patch'),
        pre_unpatch: r.ptr(cb + KLP_CALLBACKS_LAYOUT.pre_unpatch, 'klp_callbacks.pre_unpatch'),
        post_unpatch: r.ptr(cb + KLP_CALLBACKS_LAYOUT.post_unpatch, 'klp_callbacks.post_unpatch'),
      },
    });
  }
  const states: KlpStateImage[] = [];
  // klp_for_each_state(): up to the entry with id 0.
  for (let i = 0; statesAt !== 0; i++) {
    if (i >= MAX_ENTRIES) throw new KlpStructError('the states of the patch have no terminating entry');
    const at = statesAt + i * KLP_STATE_LAYOUT.size;
    const id = r.ptr(at + KLP_STATE_LAYOUT.id, 'klp_state.id');
    if (id === 0) break;
    states.push({ id, version: r.u32(at + KLP_STATE_LAYOUT.version, 'klp_state.version'), addr: at });
  }
  return { addr, mod, replace, objs, states };
}

/** The name in a struct module (module.h's `name[MODULE_NAME_LEN]`). */
export function readModuleName(km: KernelMemory, mod: number): string {
  return new Reader(km).str(mod + MODULE_LAYOUT.name, MODULE_LAYOUT.nameLen, 'module.name');
}

/** klp_object.mod: the core points it at the object's module while that is loaded, NULL otherwise. */
export function writeObjectMod(km: KernelMemory, obj: KlpObjectImage, mod: number): void {
  km.writeU64(obj.addr + KLP_OBJECT_LAYOUT.mod, mod);
}
