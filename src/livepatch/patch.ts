/**
 * Patching and unpatching functions: the func_stack of each patched function and its ftrace ops
 * (kernel/livepatch/patch.c).
 *
 * The first func pushed on a function's stack creates its klp_ops, routes the function's ftrace site to
 * it (the filter) and registers it with the ftrace core (src/kernel/ftrace-ops.ts), which points the site
 * at the ops' trampoline — or at ftrace_ops_list_func when a tracer or kprobe shares it — through
 * text_poke_bp. The last func removed unregisters it: the site stops calling the handler and
 * unregister_ftrace_function() waits until no CPU can still be inside it (a grace period) before the ops
 * record is freed.
 *
 * Shared-memory writes (see klp-records.ts for the readers' side): a func record is complete before the
 * Atomics.store of the link that publishes it; unlinking is one Atomics.store; flags are Atomics.store'd.
 */
import { KsymKind } from '../mem/kallsyms';
import { FTRACE_USER_KLP } from '../mem/ftrace-users';
import { NULL_LINK } from '../kernel/slab';
import { FTRACE_OPS_FL_IPMODIFY, FTRACE_OPS_FL_PERMANENT } from '../kernel/ftrace-ops';
import { FuncWord, FUNC_NOP, FUNC_PATCHED, FUNC_TRANSITION, OPS_MAGIC, OpsWord } from './klp-records';
import type { KlpOps, KlpState } from './klp-state';
import { KlpFunc, KlpObject, KlpPatch, objName } from './klp-types';

/** Writes the func's handler-visible fields into its shared record. */
export function syncFuncRecord(s: KlpState, func: KlpFunc): void {
  const slab = s.records.slab;
  slab.set(func.rec, FuncWord.OldAddr, func.old_func);
  slab.set(func.rec, FuncWord.NewAddr, func.new_func);
  slab.set(func.rec, FuncWord.NewSize, func.new_size);
  slab.set(func.rec, FuncWord.OldSize, func.old_size);
  slab.set(func.rec, FuncWord.PatchId, func.obj.patch.id);
  slab.set(
    func.rec,
    FuncWord.Flags,
    (func.nop ? FUNC_NOP : 0) | (func.patched ? FUNC_PATCHED : 0) | (func.transition ? FUNC_TRANSITION : 0),
  );
}

export function setTransition(s: KlpState, func: KlpFunc, transition: boolean): void {
  func.transition = transition;
  syncFuncRecord(s, func);
}

export function klpFindOps(s: KlpState, oldFunc: number): KlpOps | undefined {
  return s.ops.get(oldFunc);
}

function funcEvent(s: KlpState, type: 'func_stack.push' | 'func_stack.remove', func: KlpFunc, ops: KlpOps): void {
  s.m.emit({
    type,
    func: func.old_name,
    object: objName(func.obj),
    patch: func.obj.patch.mod,
    nop: func.nop,
    depth: ops.func_stack.length,
    addr: func.old_func,
  });
}

/**
 * register_ftrace_function(): the ftrace core admits the ops or refuses it (a PERMANENT one while
 * kernel.ftrace_enabled is 0, or a second IPMODIFY ops on the function: -EBUSY) and routes the site —
 * to the ops' trampoline, or to the list function when a tracer or kprobe is there too.
 */
async function registerFtraceFunction(s: KlpState, func: KlpFunc, ops: KlpOps): Promise<number> {
  const ret = await s.ftrace.register(ops.fops, s.ftraceUpdate());
  if (ret) return ret;
  s.m.emit({ type: 'ftrace.register', func: func.old_name, addr: func.old_func });
  return 0;
}

/**
 * unregister_ftrace_function(): the site stops calling the handler, then ftrace waits until every CPU has
 * left it — which is what makes freeing the ops (and a NOP func) afterwards safe.
 */
async function unregisterFtraceFunction(s: KlpState, func: KlpFunc, ops: KlpOps): Promise<void> {
  await s.ftrace.unregister(ops.fops, s.ftraceUpdate());
  s.m.emit({ type: 'ftrace.unregister', func: func.old_name, addr: func.old_func });
}

export async function klpPatchFunc(s: KlpState, func: KlpFunc): Promise<number> {
  if (!func.old_func || func.patched) return -22; // WARN_ON: -EINVAL
  const slab = s.records.slab;
  let ops = klpFindOps(s, func.old_func);
  syncFuncRecord(s, func);
  if (!ops) {
    // ftrace_set_filter_ip() -> ftrace_match_addr(): an address without an ftrace record (a notrace
    // function: no __mcount_loc entry) is -EINVAL, before anything is registered.
    const site = s.m.kallsyms.symbolAt(func.old_func);
    if (!site || site.addr !== func.old_func || site.kind !== KsymKind.Func) {
      s.m.log(`livepatch: failed to set ftrace filter for function '${func.old_name}' (-22)`);
      return -22;
    }
    const rec = slab.alloc(OPS_MAGIC);
    slab.set(rec, OpsWord.OldAddr, func.old_func);
    const flags = FTRACE_OPS_FL_IPMODIFY | (s.ftrace.hasPermanentFlag ? FTRACE_OPS_FL_PERMANENT : 0);
    const fops = { owner: `livepatch:${func.old_name}`, flags, user: FTRACE_USER_KLP, filter: new Set([func.old_func]) };
    ops = { old_func: func.old_func, rec, func_stack: [], fops };
    s.ops.set(func.old_func, ops);
    // list_add_rcu(&func->stack_node, &ops->func_stack): publish the func with one store of the head.
    slab.set(func.rec, FuncWord.Next, NULL_LINK);
    slab.set(rec, OpsWord.Head, func.rec);
    ops.func_stack.unshift(func);
    s.records.filterAdd(func.old_func, rec);
    funcEvent(s, 'func_stack.push', func, ops);
    const ret = await registerFtraceFunction(s, func, ops);
    if (ret) {
      // The kernel registers before it links the func: nothing could have entered the handler through
      // this ops, so it goes at once (ftrace_set_filter_ip(…, remove), kfree(ops)).
      s.m.log(`livepatch: failed to register ftrace handler for function '${func.old_name}' (${ret})`);
      s.records.filterRemove(func.old_func);
      slab.set(rec, OpsWord.Head, NULL_LINK);
      ops.func_stack.length = 0;
      s.ops.delete(func.old_func);
      funcEvent(s, 'func_stack.remove', func, ops);
      slab.release(rec);
      return ret;
    }
  } else {
    slab.set(func.rec, FuncWord.Next, slab.get(ops.rec, OpsWord.Head));
    slab.set(ops.rec, OpsWord.Head, func.rec);
    ops.func_stack.unshift(func);
    funcEvent(s, 'func_stack.push', func, ops);
  }
  func.patched = true;
  syncFuncRecord(s, func);
  return 0;
}

export async function klpUnpatchFunc(s: KlpState, func: KlpFunc): Promise<void> {
  if (!func.patched || !func.old_func) return;
  const ops = klpFindOps(s, func.old_func);
  if (!ops) return;
  const slab = s.records.slab;
  if (ops.func_stack.length === 1) {
    await unregisterFtraceFunction(s, func, ops);
    s.records.filterRemove(func.old_func);
    slab.set(ops.rec, OpsWord.Head, NULL_LINK);
    ops.func_stack.length = 0;
    s.ops.delete(func.old_func);
    funcEvent(s, 'func_stack.remove', func, ops);
    slab.release(ops.rec); // kfree(ops): unregister_ftrace_function() has synchronised
  } else {
    // list_del_rcu(): unlink with one store; the record stays intact for CPUs that already hold it.
    const i = ops.func_stack.indexOf(func);
    const next = slab.get(func.rec, FuncWord.Next);
    if (i === 0) slab.set(ops.rec, OpsWord.Head, next);
    else slab.set(ops.func_stack[i - 1].rec, FuncWord.Next, next);
    ops.func_stack.splice(i, 1);
    funcEvent(s, 'func_stack.remove', func, ops);
  }
  func.patched = false;
  syncFuncRecord(s, func);
}

async function unpatchObject(s: KlpState, obj: KlpObject, nopsOnly: boolean): Promise<void> {
  for (const func of obj.funcs) {
    if (nopsOnly && !func.nop) continue;
    if (func.patched) await klpUnpatchFunc(s, func);
  }
  if (obj.dynamic || !nopsOnly) obj.patched = false;
}

export async function klpUnpatchObject(s: KlpState, obj: KlpObject): Promise<void> {
  await unpatchObject(s, obj, false);
}

export async function klpPatchObject(s: KlpState, obj: KlpObject): Promise<number> {
  if (obj.patched) return -22;
  for (const func of obj.funcs) {
    const ret = await klpPatchFunc(s, func);
    if (ret) {
      await klpUnpatchObject(s, obj);
      return ret;
    }
  }
  obj.patched = true;
  return 0;
}

export async function klpUnpatchObjects(s: KlpState, patch: KlpPatch): Promise<void> {
  for (const obj of patch.objs) if (obj.patched) await unpatchObject(s, obj, false);
}

/** Unpatches only the NOP funcs (and marks dynamic objects unpatched): the seed's first half. */
export async function klpUnpatchObjectsDynamic(s: KlpState, patch: KlpPatch): Promise<void> {
  for (const obj of patch.objs) if (obj.patched) await unpatchObject(s, obj, true);
}
