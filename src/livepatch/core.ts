/**
 * Registering and enabling patches, disabling them, cumulative replace's NOPs, and modules coming and
 * going (kernel/livepatch/core.c). Every entry point takes klp_mutex (KlpState.withMutex) — the
 * coordinator actor's serialisation of everything that changes livepatch state.
 */
import { KsymKind } from '../mem/kallsyms';
import { KLP_PATCHED, KLP_UNPATCHED } from '../mem/task-struct';
import { FUNC_MAGIC } from './klp-records';
import type { KlpState } from './klp-state';
import { klpPrePatchCallback, klpPreUnpatchCallback, klpPostUnpatchCallback, klpPostPatchCallback } from './callbacks';
import { klpFreePatchFinish, klpFreePatchStart } from './core-free';
import { klpPatchObject, klpUnpatchObject, syncFuncRecord } from './patch';
import { klpIncompatibleState } from './state';
import {
  klpCancelTransition,
  klpInitTransition,
  klpReverseTransition,
  klpStartTransition,
  klpTryCompleteTransition,
  klpForceTransition,
} from './transition';
import { KlpFunc, KlpObject, KlpObjectDef, KlpPatch, KlpPatchDef, objName } from './klp-types';

export const EINVAL = -22;
export const EBUSY = -16;
export const ENODEV = -19;
export const ENOENT = -2;
export const EEXIST = -17;

const log = (s: KlpState, text: string): void => s.m.log(`livepatch: ${text}`);

function newFunc(s: KlpState, obj: KlpObject, old_name: string, new_name: string, old_sympos: number, nop: boolean, new_addr = 0): KlpFunc {
  const func: KlpFunc = {
    old_name,
    new_name,
    new_addr,
    old_sympos,
    nop,
    obj,
    old_func: 0,
    old_size: 0,
    new_func: 0,
    new_size: 0,
    patched: false,
    transition: false,
    rec: s.records.slab.alloc(FUNC_MAGIC),
  };
  obj.funcs.push(func);
  return func;
}

function newObject(patch: KlpPatch, def: Pick<KlpObjectDef, 'name' | 'callbacks'>, dynamic: boolean): KlpObject {
  const obj: KlpObject = {
    name: def.name,
    funcs: [],
    patched: false,
    dynamic,
    loaded: false,
    patch,
    callbacks: { ...(def.callbacks ?? {}), post_unpatch_enabled: false },
  };
  patch.objs.push(obj);
  return obj;
}

/**
 * klp_find_func()'s sympos match: exact until 6.19 ("livepatch: Match old_sympos 0 and 1 in
 * klp_find_func()"), from then on 0 (the only symbol of that name) and 1 (its first occurrence) are one.
 */
const sameSympos = (s: KlpState, a: number, b: number): boolean => (s.m.version.matchesSympos0And1 ? (a || 1) === (b || 1) : a === b);

/** klp_add_nops(): a NOP for every function an enabled patch changes and this cumulative one does not. */
function klpAddNops(s: KlpState, patch: KlpPatch): void {
  for (const old of s.patches) {
    for (const oldObj of old.objs) {
      let obj = patch.objs.find((o) => o.name === oldObj.name);
      if (!obj) obj = newObject(patch, { name: oldObj.name }, true);
      for (const oldFunc of oldObj.funcs) {
        if (obj.funcs.some((f) => f.old_name === oldFunc.old_name && sameSympos(s, f.old_sympos, oldFunc.old_sympos))) continue;
        const nop = newFunc(s, obj, oldFunc.old_name, '', oldFunc.old_sympos, true);
        s.m.emit({
          type: 'nop.add',
          func: nop.old_name,
          object: objName(obj),
          patch: patch.mod,
          dynamicObject: obj.dynamic,
          replaces: old.mod,
        });
      }
    }
  }
}

/** A func's sysfs directory name: sympos 0 (a unique symbol) is shown as its first occurrence, 1. */
export const funcSysfsName = (f: Pick<KlpFunc, 'old_name' | 'old_sympos'>): string => `${f.old_name},${f.old_sympos || 1}`;

/**
 * klp_init_object() and klp_init_func() as far as sysfs sees them: each kobject_add() of an object's
 * directory and of its funcs' `FUNC,SYMPOS` directories, in list order (the patch's own funcs, then the
 * NOPs klp_add_nops() appended). A name already in the directory fails with -EEXIST, logged as sysfs and
 * kobject_add_internal() log it. Names are compared, not sympos: 0 and 1 are the same directory (v5.1's
 * klp_find_func() still told them apart, so a cumulative patch naming sympos 1 for a function an older
 * patch named with 0 gets a NOP for it, whose directory collides).
 */
function klpInitObjectSysfs(s: KlpState, patch: KlpPatch, obj: KlpObject): number {
  const dir = `/kernel/livepatch/${patch.mod}`;
  const taken = (name: string, within: string, names: Set<string>): boolean => {
    if (!names.has(name)) {
      names.add(name);
      return false;
    }
    s.m.log(`sysfs: cannot create duplicate filename '${within}/${name}'`);
    s.m.log(`kobject_add_internal failed for ${name} with -EEXIST, don't try to register things with the same name in the same directory.`);
    return true;
  };
  const objects = new Set(patch.objs.slice(0, patch.objs.indexOf(obj)).map(objName));
  if (taken(objName(obj), dir, objects)) return EEXIST;
  const funcs = new Set<string>();
  for (const func of obj.funcs) if (taken(funcSysfsName(func), `${dir}/${objName(obj)}`, funcs)) return EEXIST;
  return 0;
}

/** klp_find_object_symbol(), with the kernel's error lines. */
function findObjectSymbol(s: KlpState, objname: string | null, name: string, sympos: number): { addr: number; size: number } | null {
  const matches = s.m.kallsyms.lookupAll(name, objname ?? 'vmlinux').filter((k) => k.kind !== KsymKind.Service);
  if (matches.length === 0) log(s, `symbol '${name}' not found in symbol table`);
  else if (matches.length > 1 && sympos === 0) log(s, `unresolvable ambiguity for symbol '${name}' in object '${objname ?? '(null)'}'`);
  else if (sympos > 0 && sympos > matches.length)
    log(s, `symbol position ${sympos} for symbol '${name}' in object '${objname ?? 'vmlinux'}' not found`);
  else {
    const k = matches[sympos > 0 ? sympos - 1 : 0];
    return { addr: k.addr, size: k.size };
  }
  return null;
}

/**
 * klp_init_object_loaded(): once the target object is in memory, write the patch module's klp relocations
 * against it (its new functions' references into the object), then resolve old and new addresses.
 */
function klpInitObjectLoaded(s: KlpState, patch: KlpPatch, obj: KlpObject): number {
  if (obj.name !== null) {
    const missing = s.m.loader.writeKlpRelocs(patch.mod, obj.name);
    if (missing !== null) {
      log(s, `symbol '${missing}' not found in symbol table`);
      return EINVAL;
    }
  }
  for (const func of obj.funcs) {
    const old = findObjectSymbol(s, obj.name, func.old_name, func.old_sympos);
    if (!old) return EINVAL;
    func.old_func = old.addr;
    func.old_size = old.size;
    if (func.nop) {
      func.new_func = func.old_func;
      func.new_size = func.old_size;
    } else {
      // kallsyms_lookup_size_offset() of new_func: a C patch names its replacement by address.
      const nf = func.new_addr !== 0 ? s.m.kallsyms.symbolAt(func.new_addr) : s.m.kallsyms.lookup(func.new_name, patch.mod);
      if (!nf) {
        log(s, `kallsyms size lookup failed for '${func.old_name}' replacement`);
        return ENOENT;
      }
      func.new_func = func.new_addr !== 0 ? func.new_addr : nf.addr;
      func.new_size = nf.size;
    }
    syncFuncRecord(s, func);
  }
  obj.loaded = true;
  return 0;
}

/** klp_free_object_loaded(): the target module went away. */
function klpFreeObjectLoaded(s: KlpState, obj: KlpObject): void {
  obj.loaded = false;
  for (const func of obj.funcs) {
    func.old_func = 0;
    if (func.nop) func.new_func = 0;
    syncFuncRecord(s, func);
  }
}

export interface ModuleQuery {
  isLoaded(name: string): boolean;
}

async function enablePatchLocked(s: KlpState, patch: KlpPatch): Promise<number> {
  if (s.transitionPatch) return EBUSY;
  if (patch.enabled) return EINVAL;
  log(s, `enabling patch '${patch.mod}'`);
  s.m.emit({ type: 'patch.enable', patch: patch.mod, replace: patch.replace });
  klpInitTransition(s, patch, KLP_PATCHED);
  let ret = 0;
  for (const obj of patch.objs) {
    if (!obj.loaded) continue;
    ret = await klpPrePatchCallback(obj);
    if (ret) {
      log(s, `pre-patch callback failed for object '${objName(obj)}'`);
      break;
    }
    ret = await klpPatchObject(s, obj);
    if (ret) {
      log(s, `failed to patch object '${objName(obj)}'`);
      break;
    }
  }
  if (ret) {
    log(s, `failed to enable patch '${patch.mod}'`);
    await klpCancelTransition(s);
    return ret;
  }
  klpStartTransition(s);
  patch.enabled = true;
  if (s.fault('early-free')) earlyFreeReplaced(s, patch);
  await klpTryCompleteTransition(s);
  return 0;
}

/** Fault early-free: the replaced patches' funcs are freed while tasks may still be sent to them. */
function earlyFreeReplaced(s: KlpState, patch: KlpPatch): void {
  if (!patch.replace) return;
  for (const old of s.patches) {
    if (old === patch) break;
    for (const obj of old.objs) for (const func of obj.funcs) s.records.slab.release(func.rec);
  }
}

/**
 * klp_enable_patch(): called at the end of a livepatch module's init. Returns 0 or a negative errno
 * (which fails the module load).
 */
export async function klpEnablePatch(s: KlpState, def: KlpPatchDef, modules: ModuleQuery): Promise<number> {
  return s.withMutex(async () => {
    if (s.byName.has(def.mod)) return EINVAL;
    const states = s.m.version.hasSystemStates ? [...(def.states ?? [])] : [];
    // klp_is_patch_compatible(), before klp_init_patch_early(): nothing of the patch exists yet.
    const clash = klpIncompatibleState(s, { replace: def.replace, states });
    if (clash) {
      s.m.emit({
        type: 'state.incompatible',
        patch: def.mod,
        id: clash.state.id,
        version: states.find((st) => st.id === clash.state.id)?.version ?? null,
        installed: clash.patch.mod,
        installedVersion: clash.state.version,
      });
      log(s, `Livepatch patch (${def.mod}) is not compatible with the already installed livepatches.`);
      return EINVAL;
    }
    const patch: KlpPatch = {
      mod: def.mod,
      id: s.nextPatchId++,
      replace: def.replace,
      states,
      enabled: false,
      forced: false,
      objs: [],
      listed: false,
      freed: false,
    };
    for (const od of def.objs) {
      const obj = newObject(patch, od, false);
      for (const fd of od.funcs) newFunc(s, obj, fd.old_name, fd.new_name, fd.old_sympos ?? 0, false, fd.new_addr ?? 0);
    }
    s.byName.set(patch.mod, patch);
    // klp_init_patch()
    if (patch.replace) klpAddNops(s, patch);
    let ret = 0;
    for (const obj of patch.objs) {
      obj.patched = false;
      ret = klpInitObjectSysfs(s, patch, obj);
      if (ret) break;
      if (obj.name === null || modules.isLoaded(obj.name)) {
        ret = klpInitObjectLoaded(s, patch, obj);
        if (ret) break;
      }
    }
    if (!ret) {
      s.patches.push(patch);
      patch.listed = true;
      ret = await enablePatchLocked(s, patch);
    }
    if (ret) {
      klpFreePatchStart(s, patch);
      klpFreePatchFinish(s, patch);
    }
    return ret;
  });
}

async function disablePatchLocked(s: KlpState, patch: KlpPatch): Promise<number> {
  if (!patch.enabled) return EINVAL;
  if (s.transitionPatch) return EBUSY;
  s.m.emit({ type: 'patch.disable', patch: patch.mod });
  klpInitTransition(s, patch, KLP_UNPATCHED);
  for (const obj of patch.objs) if (obj.patched) await klpPreUnpatchCallback(obj);
  klpStartTransition(s);
  patch.enabled = false;
  await klpTryCompleteTransition(s);
  return 0;
}

/** `echo V > /sys/kernel/livepatch/P/enabled` (enabled_store()). */
export async function klpEnabledStore(s: KlpState, patch: KlpPatch, enabled: boolean): Promise<number> {
  return s.withMutex(async () => {
    if (patch.freed) return ENOENT;
    if (patch.enabled === enabled) return EINVAL;
    if (patch === s.transitionPatch) {
      // Only turned around: the transition's delayed work, already pending, makes the next try (the
      // kernel's enabled_store() calls klp_reverse_transition() and nothing else).
      await klpReverseTransition(s);
      return 0;
    }
    // SPEC: changing any other patch while one is in transition is -EBUSY.
    if (s.transitionPatch) return EBUSY;
    if (!enabled) return disablePatchLocked(s, patch);
    return EINVAL; // a disabled patch cannot be re-enabled
  });
}

/** `echo 1 > /sys/kernel/livepatch/P/force` (force_store()). */
export async function klpForceStore(s: KlpState, patch: KlpPatch): Promise<number> {
  return s.withMutex(async () => {
    if (patch !== s.transitionPatch) return EINVAL;
    klpForceTransition(s);
    return 0;
  });
}

/** klp_module_coming(): patches that target the module are applied before its init runs. */
export async function klpModuleComing(s: KlpState, mod: string): Promise<number> {
  return s.withMutex(async () => {
    for (const patch of s.patches) {
      const obj = patch.objs.find((o) => o.name === mod);
      if (!obj) continue;
      let ret = klpInitObjectLoaded(s, patch, obj);
      if (ret) {
        log(s, `failed to initialize patch '${patch.mod}' for module '${mod}' (${ret})`);
      } else {
        log(s, `applying patch '${patch.mod}' to loading module '${mod}'`);
        ret = await klpPrePatchCallback(obj);
        if (ret) log(s, `pre-patch callback failed for object '${mod}'`);
        else {
          ret = await klpPatchObject(s, obj);
          if (ret) {
            log(s, `failed to apply patch '${patch.mod}' to module '${mod}' (${ret})`);
            await klpPostUnpatchCallback(obj);
          } else if (patch !== s.transitionPatch) {
            await klpPostPatchCallback(obj);
          }
        }
      }
      if (ret) {
        log(s, `patch '${patch.mod}' failed for module '${mod}', refusing to load module '${mod}'`);
        // The refused module's object is no longer "loaded" for this patch either (obj->mod = NULL).
        klpFreeObjectLoaded(s, obj);
        await cleanupModulePatches(s, mod, patch);
        return ret;
      }
    }
    return 0;
  });
}

/** klp_cleanup_module_patches_limited(): revert the module's objects in patches before `limit`. */
async function cleanupModulePatches(s: KlpState, mod: string, limit: KlpPatch | null): Promise<void> {
  for (const patch of s.patches) {
    if (patch === limit) break;
    const obj = patch.objs.find((o) => o.name === mod);
    if (!obj || !obj.loaded) continue;
    if (patch !== s.transitionPatch) await klpPreUnpatchCallback(obj);
    log(s, `reverting patch '${patch.mod}' on unloading module '${mod}'`);
    await klpUnpatchObject(s, obj);
    await klpPostUnpatchCallback(obj);
    klpFreeObjectLoaded(s, obj);
  }
}

/** klp_module_going(): after the module's exit ran, its patched objects are reverted. */
export async function klpModuleGoing(s: KlpState, mod: string): Promise<void> {
  await s.withMutex(() => cleanupModulePatches(s, mod, null));
}
