/**
 * struct klp_patch / klp_object / klp_func / klp_callbacks, as the coordinator holds them. The fields the
 * CPUs read (func_stack links, transition/nop/patched flags, new_func) are mirrored into the func's shared
 * record (`rec`, see klp-records.ts) by the code that changes them — never anywhere else.
 */
import type { Link } from '../kernel/slab';

/** A callback returns 0 or a negative errno (only pre_patch's result is used, as in the kernel). */
export type KlpCallback = (obj: KlpObject) => Promise<number | void>;

export interface KlpCallbacks {
  pre_patch?: KlpCallback;
  post_patch?: KlpCallback;
  pre_unpatch?: KlpCallback;
  post_unpatch?: KlpCallback;
  /** Set by klp_pre_patch_callback(): post_unpatch runs only if pre_patch succeeded. */
  post_unpatch_enabled: boolean;
}

export interface KlpFunc {
  old_name: string;
  /** The replacement's symbol name in the patch module (empty for a NOP). */
  new_name: string;
  old_sympos: number;
  /** Addresses, set when the object is loaded (klp_init_object_loaded()); 0 while it is not. */
  old_func: number;
  old_size: number;
  new_func: number;
  new_size: number;
  /** klp_func.new_func as a C patch gave it (0: found by new_name in the patch module). */
  new_addr: number;
  nop: boolean;
  patched: boolean;
  transition: boolean;
  obj: KlpObject;
  /** The shared record the ftrace handler reads (allocated for the func's whole life). */
  rec: Link;
}

export interface KlpObject {
  /** null is vmlinux, as in the kernel. */
  name: string | null;
  funcs: KlpFunc[];
  callbacks: KlpCallbacks;
  patched: boolean;
  dynamic: boolean;
  /** The target module is loaded (always true for vmlinux). */
  loaded: boolean;
  patch: KlpPatch;
}

/** struct klp_state (5.5+): a system state change the patch makes, and the version of its handling. */
export interface KlpStateDef {
  id: number;
  version: number;
  /** A C module's struct klp_state in its memory (what klp_get_prev_state() returns to C). */
  addr?: number;
}

export interface KlpPatch {
  /** The livepatch module's name (patch->mod->name). */
  mod: string;
  id: number;
  replace: boolean;
  /** patch->states (state.c); empty before 5.5, which has no system states. */
  states: KlpStateDef[];
  enabled: boolean;
  forced: boolean;
  objs: KlpObject[];
  /** On klp_patches (enabled or in transition). */
  listed: boolean;
  /** Freed: its sysfs directory is gone and its module may be removed (unless forced). */
  freed: boolean;
}

export const objName = (obj: KlpObject): string => obj.name ?? 'vmlinux';

/** Definitions a livepatch module hands to klp_enable_patch() (its static klp_patch). */
export interface KlpFuncDef {
  old_name: string;
  new_name: string;
  /** The replacement's address, for a patch read from C (klp_func.new_func): found by address, as the kernel does. */
  new_addr?: number;
  old_sympos?: number;
}

export interface KlpObjectDef {
  name: string | null;
  funcs: KlpFuncDef[];
  callbacks?: Omit<KlpCallbacks, 'post_unpatch_enabled'>;
}

export interface KlpPatchDef {
  mod: string;
  replace: boolean;
  states?: KlpStateDef[];
  objs: KlpObjectDef[];
}
