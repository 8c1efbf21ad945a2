/**
 * Taking patches apart (kernel/livepatch/core.c): discarding replaced patches and — the seed, "livepatch:
 * Remove Nop structures when unused" — discarding the NOP funcs and dynamic objects of a cumulative patch
 * once its transition has completed.
 *
 * Why freeing NOPs is safe: by the time klp_discard_nops() runs, the replaced patches have been unpatched,
 * so each NOP is the only entry on its func_stack; removing it unregisters the ftrace ops, and
 * unregister_ftrace_function() waits until no CPU is inside the handler. Only then are the NOP records
 * freed. They are first taken off their object's list (the kernel's list_del before kobject_put, because
 * kobject release is asynchronous), so nothing can find them while they are being freed.
 */
import type { KlpState } from './klp-state';
import { klpUnpatchObjects, klpUnpatchObjectsDynamic } from './patch';
import { KlpFunc, KlpPatch, objName } from './klp-types';

function freeFuncRecord(s: KlpState, func: KlpFunc): void {
  s.records.slab.release(func.rec);
  s.m.emit({ type: 'klp.free', what: 'func', func: func.old_name, object: objName(func.obj), patch: func.obj.patch.mod, nop: func.nop });
}

/** __klp_free_funcs() + __klp_free_objects(): with nopsOnly, just NOP funcs and dynamic objects. */
function freeObjects(s: KlpState, patch: KlpPatch, nopsOnly: boolean): void {
  for (const obj of [...patch.objs]) {
    for (const func of [...obj.funcs]) {
      if (nopsOnly && !func.nop) continue;
      obj.funcs.splice(obj.funcs.indexOf(func), 1); // list_del(&func->node) first
      if (func.nop) {
        if (nopsOnly) s.m.emit({ type: 'nop.discard', func: func.old_name, object: objName(obj), patch: patch.mod });
        freeFuncRecord(s, func); // kobject release of a NOP: kfree
      } else {
        // A static klp_func is part of its module's memory: it goes when the module goes.
        const recs = s.moduleRecords.get(patch.mod) ?? [];
        recs.push(func.rec);
        s.moduleRecords.set(patch.mod, recs);
      }
    }
    if (nopsOnly && !obj.dynamic) continue;
    patch.objs.splice(patch.objs.indexOf(obj), 1);
    if (obj.dynamic) s.m.emit({ type: 'klp.free', what: 'object', object: objName(obj), patch: patch.mod, dynamic: true });
  }
}

export function klpFreeObjectsDynamic(s: KlpState, patch: KlpPatch): void {
  freeObjects(s, patch, true);
}

/** klp_free_patch_start(): off klp_patches, objects and funcs taken apart (under klp_mutex). */
export function klpFreePatchStart(s: KlpState, patch: KlpPatch): void {
  const i = s.patches.indexOf(patch);
  if (i >= 0) s.patches.splice(i, 1);
  patch.listed = false;
  freeObjects(s, patch, false);
}

/**
 * klp_free_patch_finish(): the sysfs directory goes away and the module reference is dropped — unless the
 * patch was forced: then the module can never be removed (a task may still run its code).
 */
export function klpFreePatchFinish(s: KlpState, patch: KlpPatch): void {
  patch.freed = true;
  if (patch.forced) s.forcedModules.add(patch.mod);
  s.byName.delete(patch.mod);
  s.m.emit({ type: 'klp.free', what: 'patch', patch: patch.mod, forced: patch.forced });
}

/**
 * In klp_complete_transition(), once every task runs the new cumulative patch: every older patch is
 * disabled and its funcs leave their func_stacks (the new patch's funcs and NOPs are on top, so no stack
 * empties here unless the new patch lacks the function).
 * - From 5.5 (klp_unpatch_replaced_patches(), "livepatch: Keep replaced patches until post_patch callback
 *   is called") that is all: the replaced patches stay on klp_patches through the post_patch callbacks.
 * - Before (5.1's klp_discard_replaced_patches()), each is also taken apart at once — klp_free_patch_start():
 *   off klp_patches, its objects and funcs released — and only its free work (klp_free_patch_finish())
 *   waits until after "patching complete".
 */
export async function klpDiscardReplacedPatches(s: KlpState, newPatch: KlpPatch): Promise<void> {
  for (const old of [...s.patches]) {
    if (old === newPatch) return;
    old.enabled = false;
    await klpUnpatchObjects(s, old);
    if (!s.m.version.keepsReplacedPatchesUntilPostPatch) klpFreePatchStart(s, old);
    s.replacedAwaitingFree.push(old);
  }
}

/**
 * After "patching complete": klp_free_replaced_patches_async() (5.5: klp_free_patch_start() of each, then
 * its free work), or the free work 5.1's klp_discard_replaced_patches() scheduled.
 */
export function klpFreeReplacedPatches(s: KlpState, _newPatch: KlpPatch): void {
  for (const old of s.replacedAwaitingFree.splice(0)) {
    if (s.m.version.keepsReplacedPatchesUntilPostPatch) klpFreePatchStart(s, old);
    klpFreePatchFinish(s, old);
  }
}

/** The seed: unpatch the NOPs (unregistering their ftrace ops, which synchronises), then free them. */
export async function klpDiscardNops(s: KlpState, patch: KlpPatch): Promise<void> {
  await klpUnpatchObjectsDynamic(s, patch);
  klpFreeObjectsDynamic(s, patch);
}

/** free_module() of a livepatch module: its static klp_func records (after a grace period). */
export function klpReleaseModuleRecords(s: KlpState, mod: string): void {
  for (const rec of s.moduleRecords.get(mod) ?? []) s.records.slab.release(rec);
  s.moduleRecords.delete(mod);
}
